-- Bytes per message, delivery and idempotency key on disk (heap + indexes + TOAST, after VACUUM), as quoted in the
-- README ("Retention"). Run against an empty, migrated database: psql -d <db> -f docs/retention-storage.sql
\timing off
INSERT INTO projects (id, name, created_at) VALUES ('00000000-0000-0000-0000-000000000001', 'p', now());
-- 200,000 single-endpoint messages as the API writes them (APNs payload and FCM message of a short title/body alert)
INSERT INTO deliveries (message_id, endpoint_id, application_id, state, attempts, next_attempt_at, expires_at, last_attempt_at, completed_at, provider_status, provider_id)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'delivered', 1, now(), now() + interval '28 days', now(), now(), 200, gen_random_uuid()::text
FROM generate_series(1, 200000);
INSERT INTO messages (id, project_id, target_kind, target, created_at, expires_at, ttl_seconds, target_count, idempotency_key,
                      apns_payload, apns_push_type, apns_priority, fcm_message, first_delivery_id, last_delivery_id)
SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000001', 'endpoint', json_build_object('endpointId', gen_random_uuid()), now(), now() + interval '28 days', 2419200, 1,
       gen_random_uuid()::text,
       convert_to('{"aps":{"alert":{"title":"Your order has shipped","body":"Order 12345 is on its way and arrives on Friday."}}}', 'UTF8'), 'alert', 10,
       '{"notification":{"title":"Your order has shipped","body":"Order 12345 is on its way and arrives on Friday."},"android":{"ttl":"2419200s"}}',
       i, i
FROM generate_series(1, 200000) i;
INSERT INTO idempotency_keys (project_id, key, request_hash, status_code, response, created_at)
SELECT '00000000-0000-0000-0000-000000000001', gen_random_uuid()::text, md5(i::text) || md5(i::text), 202,
       json_build_object('id', gen_random_uuid(), 'status', 'accepted', 'targetCount', 1), now()
FROM generate_series(1, 200000) i;
VACUUM ANALYZE messages; VACUUM ANALYZE deliveries; VACUUM ANALYZE idempotency_keys;
SELECT 'single' AS kind,
       pg_total_relation_size('messages') / 200000 AS message_bytes,
       pg_total_relation_size('deliveries') / 200000 AS delivery_bytes,
       pg_total_relation_size('idempotency_keys') / 200000 AS key_bytes;
-- a fan-out: one message, 200,000 more deliveries
INSERT INTO deliveries (message_id, endpoint_id, application_id, state, attempts, next_attempt_at, expires_at, last_attempt_at, completed_at, provider_status, provider_id)
SELECT '00000000-0000-0000-0000-0000000000ff', gen_random_uuid(), '00000000-0000-0000-0000-0000000000aa', 'delivered', 1, now(), now() + interval '28 days', now(), now(), 200, gen_random_uuid()::text
FROM generate_series(1, 200000);
VACUUM ANALYZE deliveries;
SELECT 'fan-out' AS kind, pg_total_relation_size('deliveries') / 400000 AS delivery_bytes,
       pg_relation_size('deliveries') / 400000 AS heap_bytes, pg_indexes_size('deliveries') / 400000 AS index_bytes;
