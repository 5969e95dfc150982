// Drives PushGateway's SNS facade with the AWS SDK for JavaScript v3, as a Node backend written for SNS would.
// Input: environment variables (set by SnsJavaScriptSdkTests). Output: one JSON object on stdout for the test to check.
import {
  SNSClient,
  CreatePlatformApplicationCommand,
  CreatePlatformEndpointCommand,
  GetEndpointAttributesCommand,
  SetEndpointAttributesCommand,
  GetPlatformApplicationAttributesCommand,
  ListTopicsCommand,
  PublishCommand,
  paginateListEndpointsByPlatformApplication,
  paginateListPlatformApplications,
} from "@aws-sdk/client-sns";

const env = process.env;
const endpoint = env.SNS_ENDPOINT;
const region = "eu-west-1";
const own = { accessKeyId: env.SNS_KEY_ID, secretAccessKey: env.SNS_SECRET };
const other = { accessKeyId: env.OTHER_KEY_ID, secretAccessKey: env.OTHER_SECRET };
const client = new SNSClient({ endpoint, region, credentials: own, maxAttempts: 1 });
const out = {};

async function failure(promise) {
  try {
    await promise;
    return { name: "no error" };
  } catch (e) {
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode, requestId: e.$metadata?.requestId };
  }
}

// The AWS sample registration flow.
const app = await client.send(new CreatePlatformApplicationCommand({
  Name: "android-app", Platform: "GCM", Attributes: { PlatformCredential: env.FCM_SERVICE_ACCOUNT },
}));
out.appArn = app.PlatformApplicationArn;
out.appAttributes = (await client.send(new GetPlatformApplicationAttributesCommand({ PlatformApplicationArn: out.appArn }))).Attributes;

const [token1, token2] = JSON.parse(env.FCM_TOKENS);
const created = await client.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: out.appArn, Token: token1, CustomUserData: "u1" }));
out.endpointArn = created.EndpointArn;
out.requestId = created.$metadata.requestId;
out.sameArn = (await client.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: out.appArn, Token: token1, CustomUserData: "u1" }))).EndpointArn;
const conflict = await failure(client.send(new CreatePlatformEndpointCommand({
  PlatformApplicationArn: out.appArn, Token: token1, Attributes: { Enabled: "false" },
})));
const match = /.*Endpoint (arn:aws:sns[^ ]+) already exists with the same [Tt]oken.*/.exec(conflict.message ?? "");
out.conflict = { ...conflict, recoveredArn: match ? match[1] : null };
await client.send(new SetEndpointAttributesCommand({ EndpointArn: out.endpointArn, Attributes: { CustomUserData: "u1-updated", Enabled: "true" } }));
out.attributes = (await client.send(new GetEndpointAttributesCommand({ EndpointArn: out.endpointArn }))).Attributes;

// Publish with the FCM v1 structure and the FCM TTL attribute; and the legacy GCM shape to a second endpoint.
const v1 = { fcmV1Message: { message: { notification: { title: "Hello", body: "From SNS" }, data: { orderId: "42" }, android: { notification: { channel_id: "orders" } } } } };
out.v1MessageId = (await client.send(new PublishCommand({
  TargetArn: out.endpointArn, MessageStructure: "json",
  Message: JSON.stringify({ default: "fallback", GCM: JSON.stringify(v1) }),
  MessageAttributes: { "AWS.SNS.MOBILE.FCM.TTL": { DataType: "String", StringValue: "120" } },
}))).MessageId;
const second = await client.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: out.appArn, Token: token2 }));
const legacy = { notification: { title: "Legacy", body: "shape", sound: "ding" }, data: { n: 7 }, collapse_key: "c1", priority: "high" };
out.legacyMessageId = (await client.send(new PublishCommand({
  TargetArn: second.EndpointArn, MessageStructure: "json", Message: JSON.stringify({ GCM: JSON.stringify(legacy) }),
}))).MessageId;

// NextToken: more than one page of endpoints.
for (let i = 0; i < 103; i++) {
  await client.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: out.appArn, Token: `page-token-${i}` }));
}
out.pages = [];
for await (const page of paginateListEndpointsByPlatformApplication({ client }, { PlatformApplicationArn: out.appArn })) {
  out.pages.push(page.Endpoints.length);
}
out.applications = [];
for await (const page of paginateListPlatformApplications({ client }, {})) {
  out.applications.push(...page.PlatformApplications.map(a => a.PlatformApplicationArn));
}

// The endpoint URL with a trailing slash works too.
const slash = new SNSClient({ endpoint: endpoint + "/", region, credentials: own, maxAttempts: 1 });
out.trailingSlashTopics = (await slash.send(new ListTopicsCommand({}))).Topics.length;

// Authentication failures.
const tampered = new SNSClient({ endpoint, region, credentials: own, maxAttempts: 1 });
tampered.middlewareStack.addRelativeTo((next) => async (args) => {
  args.request.body = args.request.body.replace("tampered-aaaa", "tampered-bbbb");
  return next(args);
}, { relation: "after", toMiddleware: "httpSigningMiddleware", name: "tamperAfterSigning" });
out.tampered = await failure(tampered.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: out.appArn, Token: "tampered-aaaa" })));
const skewed = new SNSClient({ endpoint, region, credentials: own, maxAttempts: 1, systemClockOffset: -20 * 60 * 1000 });
out.skewed = await failure(skewed.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: out.appArn, Token: "skewed-token" })));
const wrongService = await fetch(endpoint, {
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: `Action=CreatePlatformEndpoint&Version=2010-03-31&PlatformApplicationArn=${encodeURIComponent(out.appArn)}&Token=unsigned-token`,
});
out.unsigned = { status: wrongService.status, body: await wrongService.text(), requestIdHeader: wrongService.headers.get("x-amzn-requestid") };
const unsignedGet = await fetch(endpoint + "?Action=ListTopics&Version=2010-03-31");
out.unsignedGet = { status: unsignedGet.status, body: await unsignedGet.text() };

// Another project's keys: its ARNs answer AuthorizationError; our id under its own account is not found.
const stranger = new SNSClient({ endpoint, region, credentials: other, maxAttempts: 1 });
out.crossProject = await failure(stranger.send(new GetEndpointAttributesCommand({ EndpointArn: out.endpointArn })));
out.crossProjectPublish = await failure(stranger.send(new PublishCommand({ TargetArn: out.endpointArn, Message: "steal" })));
const spoofed = out.endpointArn.replace(/:\d{12}:/, `:${env.OTHER_ACCOUNT}:`);
out.spoofed = await failure(stranger.send(new GetEndpointAttributesCommand({ EndpointArn: spoofed })));
out.spoofedSet = await failure(stranger.send(new SetEndpointAttributesCommand({ EndpointArn: spoofed, Attributes: { Enabled: "false" } })));

console.log(JSON.stringify(out));
