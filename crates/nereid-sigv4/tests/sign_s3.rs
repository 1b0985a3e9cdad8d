//! Differential test of the S3 request signer: the requests the bulk loader sends
//! (ListObjectsV2 and GetObject, path-style) signed by `nereid_sigv4::sign` must carry the
//! same `Authorization` as AWS's own Rust signer (`aws-sigv4`, with the S3 settings the AWS
//! SDK for Rust uses: no second path encoding, no path normalisation, `x-amz-content-sha256`).

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use nereid_sigv4::sign::{self as ours, Credentials, Request, EMPTY_PAYLOAD_SHA256};

fn aws_authorization(
    host: &str,
    path_and_query: &str,
    region: &str,
    token: Option<&str>,
    at: std::time::SystemTime,
) -> (String, Vec<(String, String)>) {
    let identity: Identity = AwsCredentials::new(
        "AKIDS3",
        "s3/secret+key",
        token.map(str::to_string),
        None,
        "t",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(at)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let uri = format!("http://{host}{path_and_query}");
    let signable = SignableRequest::new(
        "GET",
        uri.clone(),
        [("host", host)].into_iter(),
        SignableBody::Bytes(b""),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::builder()
        .method("GET")
        .uri(&uri)
        .header("host", host)
        .body(())
        .unwrap();
    instructions.apply_to_request_http1x(&mut request);
    let headers = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap().to_string()))
        .collect::<Vec<_>>();
    let auth = headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1
        .clone();
    (auth, headers)
}

#[test]
fn list_and_get_requests_sign_as_the_aws_sdk_does() {
    let at = UNIX_EPOCH + Duration::from_secs(1_764_800_000);
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/bucket",
            vec![("list-type", "2"), ("prefix", "data/part 1")],
        ),
        (
            "/bucket",
            vec![
                ("list-type", "2"),
                ("prefix", "a+b/é=&~"),
                (
                    "continuation-token",
                    "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
                ),
            ],
        ),
        ("/bucket/data/nodes 1.csv", vec![]),
        ("/bucket/data/ünï(code)+*.csv.gz", vec![]),
    ];
    for token in [None, Some("FwoGZXIvYXdzEJr//token==")] {
        for (path, query) in &cases {
            let creds = Credentials {
                access_key_id: "AKIDS3".into(),
                secret_access_key: "s3/secret+key".into(),
                session_token: token.map(str::to_string),
            };
            let wire_path = ours::encode_path(path);
            let signed = ours::sign(
                &Request {
                    method: "GET",
                    host: "127.0.0.1:9000",
                    path: &wire_path,
                    query,
                    payload_sha256: EMPTY_PAYLOAD_SHA256,
                    region: "eu-west-1",
                    service: "s3",
                },
                &creds,
                at,
            );
            let path_and_query = if signed.query.is_empty() {
                wire_path.clone()
            } else {
                format!("{wire_path}?{}", signed.query)
            };
            let (expected, aws_headers) =
                aws_authorization("127.0.0.1:9000", &path_and_query, "eu-west-1", token, at);
            let ours_auth = &signed
                .headers
                .iter()
                .find(|(n, _)| *n == "authorization")
                .unwrap()
                .1;
            assert_eq!(ours_auth, &expected, "{path_and_query}");
            for (name, value) in &signed.headers {
                if *name != "authorization" {
                    assert!(
                        aws_headers.iter().any(|(n, v)| n == name && v == value),
                        "{name}: {value} not in {aws_headers:?}"
                    );
                }
            }
        }
    }
}
