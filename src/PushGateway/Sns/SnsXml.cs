using System.Text;
using System.Xml;

namespace PushGateway.Sns;

/// <summary>
/// Writes the Query protocol's XML: <c>&lt;{Action}Response&gt;</c> with an optional <c>&lt;{Action}Result&gt;</c> and
/// <c>ResponseMetadata/RequestId</c>, or an <c>ErrorResponse</c>; always in the SNS namespace.
/// </summary>
internal static class SnsXml
{
    public const string Namespace = "http://sns.amazonaws.com/doc/2010-03-31/";

    private static readonly XmlWriterSettings Settings = new() { Encoding = new UTF8Encoding(false), Indent = false, OmitXmlDeclaration = false };

    /// <summary><paramref name="result"/> null: an operation without output (no Result element, as SNS answers them).</summary>
    public static byte[] Success(string action, string requestId, Action<XmlWriter>? result)
    {
        using var stream = new MemoryStream();
        using (var w = XmlWriter.Create(stream, Settings))
        {
            w.WriteStartElement(action + "Response", Namespace);
            if (result is not null)
            {
                w.WriteStartElement(action + "Result", Namespace);
                result(w);
                w.WriteEndElement();
            }

            w.WriteStartElement("ResponseMetadata", Namespace);
            w.WriteElementString("RequestId", Namespace, requestId);
            w.WriteEndElement();
            w.WriteEndElement();
        }

        return stream.ToArray();
    }

    public static byte[] Error(SnsException error, string requestId)
    {
        using var stream = new MemoryStream();
        using (var w = XmlWriter.Create(stream, Settings))
        {
            w.WriteStartElement("ErrorResponse", Namespace);
            w.WriteStartElement("Error", Namespace);
            w.WriteElementString("Type", Namespace, error.FaultType);
            w.WriteElementString("Code", Namespace, error.Code);
            w.WriteElementString("Message", Namespace, error.Message);
            w.WriteEndElement();
            w.WriteElementString("RequestId", Namespace, requestId);
            w.WriteEndElement();
        }

        return stream.ToArray();
    }

    /// <summary><c>&lt;name&gt;&lt;entry&gt;&lt;key/&gt;&lt;value/&gt;&lt;/entry&gt;…&lt;/name&gt;</c>, always written (an empty map is an empty element).</summary>
    public static void Map(XmlWriter w, string name, IEnumerable<KeyValuePair<string, string>> entries)
    {
        w.WriteStartElement(name, Namespace);
        foreach (var (key, value) in entries)
        {
            w.WriteStartElement("entry", Namespace);
            w.WriteElementString("key", Namespace, key);
            w.WriteElementString("value", Namespace, value);
            w.WriteEndElement();
        }

        w.WriteEndElement();
    }

    /// <summary><c>&lt;name&gt;&lt;member&gt;…&lt;/member&gt;…&lt;/name&gt;</c>; an empty list is still written, SDKs then give [].</summary>
    public static void List<T>(XmlWriter w, string name, IEnumerable<T> items, Action<XmlWriter, T> member)
    {
        w.WriteStartElement(name, Namespace);
        foreach (var item in items)
        {
            w.WriteStartElement("member", Namespace);
            member(w, item);
            w.WriteEndElement();
        }

        w.WriteEndElement();
    }

    public static void Element(XmlWriter w, string name, string value) => w.WriteElementString(name, Namespace, value);

    public static void ElementIf(XmlWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteElementString(name, Namespace, value);
        }
    }
}
