//! The two S3 XML documents the loader reads: `ListBucketResult` (ListObjectsV2) and
//! `Error`. S3's XML is flat and machine-written, so elements are found by name; text is
//! unescaped (the five entities and numeric references). Anything else is not looked at.

/// One page of ListObjectsV2.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ListPage {
    /// `(key, size)` of each object, as listed.
    pub objects: Vec<(String, u64)>,
    /// `NextContinuationToken` when `IsTruncated` is true.
    pub next: Option<String>,
}

/// An S3 `Error` document's `Code` and `Message`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct S3ErrorBody {
    pub code: String,
    pub message: String,
}

/// The text of every `<name>…</name>` element, in order (not nested in each other).
fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    out
}

fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    elements(xml, name).into_iter().next()
}

/// XML text → string: `&lt; &gt; &amp; &quot; &apos;` and `&#N;` / `&#xH;`.
pub(crate) fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| format!("unterminated entity in '{text}'"))?;
        let entity = &after[..end];
        let ch = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity '&{entity};'"))?
            }
        };
        out.push(ch);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses a ListObjectsV2 answer.
pub(crate) fn list_page(xml: &str) -> Result<ListPage, String> {
    if !xml.contains("<ListBucketResult") {
        return Err("the answer is not a ListBucketResult".into());
    }
    let mut page = ListPage::default();
    for contents in elements(xml, "Contents") {
        let key = element(contents, "Key").ok_or("an object without a Key")?;
        let size = element(contents, "Size")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        page.objects.push((unescape(key)?, size));
    }
    let truncated = element(xml, "IsTruncated").is_some_and(|t| t.trim() == "true");
    if truncated {
        let token = element(xml, "NextContinuationToken")
            .ok_or("a truncated listing without NextContinuationToken")?;
        page.next = Some(unescape(token)?);
    }
    Ok(page)
}

/// Parses an `Error` document; `None` if the body is not one.
pub(crate) fn error_body(xml: &str) -> Option<S3ErrorBody> {
    let error = element(xml, "Error")?;
    Some(S3ErrorBody {
        code: unescape(element(error, "Code").unwrap_or("")).unwrap_or_default(),
        message: unescape(element(error, "Message").unwrap_or("")).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_page_gives_keys_sizes_and_the_token() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>data/</Prefix>
<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
<Contents><Key>data/a&amp;b.csv</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><Size>12</Size></Contents>
<Contents><Key>data/&#233;t&#xE9;.csv.gz</Key><Size>7</Size></Contents>
<NextContinuationToken>1ueG/x+Y=</NextContinuationToken></ListBucketResult>"#;
        let page = list_page(xml).unwrap();
        assert_eq!(
            page.objects,
            [("data/a&b.csv".into(), 12), ("data/été.csv.gz".into(), 7)]
        );
        assert_eq!(page.next.as_deref(), Some("1ueG/x+Y="));
    }

    #[test]
    fn the_last_page_has_no_token_and_an_empty_listing_no_objects() {
        let xml = "<ListBucketResult><IsTruncated>false</IsTruncated><NextContinuationToken>x</NextContinuationToken></ListBucketResult>";
        assert_eq!(list_page(xml).unwrap(), ListPage::default());
        assert!(list_page("<Error><Code>NoSuchBucket</Code></Error>").is_err());
        assert!(
            list_page("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>")
                .is_err()
        );
    }

    #[test]
    fn error_documents_give_code_and_message() {
        let xml = "<?xml version='1.0'?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>x</BucketName></Error>";
        assert_eq!(
            error_body(xml).unwrap(),
            S3ErrorBody {
                code: "NoSuchBucket".into(),
                message: "The specified bucket does not exist".into()
            }
        );
        assert_eq!(error_body("<html>502</html>"), None);
        assert!(unescape("a &bogus; b").is_err());
        assert!(unescape("a & b").is_err());
    }
}
