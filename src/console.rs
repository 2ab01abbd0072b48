//! Links into the AWS Management Console: the access portal's shortcut (which needs no credentials: the
//! portal signs the browser in itself), console destinations named by service, the hosts of each partition,
//! the `ext+container:` links that open a URL in a named, coloured Firefox container, and the errors of
//! `awsso console`.
//!
//! The federation sign-in URL built from role credentials (getSigninToken, and the HTTP GET it runs on) is
//! `crate::signin`'s.
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::output::sanitize;

/// RFC 3986 unreserved characters stay; everything else in a query value is escaped (`+` included,
/// which form decoding would otherwise read as a space).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a query parameter value.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// Overrides the sign-in endpoint (`https://signin.aws.amazon.com` …), for tests and private endpoints.
pub const SIGNIN_ENDPOINT_VAR: &str = crate::vars::SIGNIN_ENDPOINT;

/// The AWS partitions a console can live in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    Aws,
    China,
    GovCloud,
}

impl Partition {
    pub fn of_region(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition::China
        } else if region.starts_with("us-gov-") {
            Partition::GovCloud
        } else {
            Partition::Aws
        }
    }

    /// The console's host: the standard partition has regional hosts (`eu-west-1.console.aws.amazon.com`);
    /// the others are reached through their one console host with `?region=`.
    fn console_host(self, region: &str) -> String {
        match self {
            Partition::Aws => format!("{region}.console.aws.amazon.com"),
            Partition::China => "console.amazonaws.cn".into(),
            Partition::GovCloud => "console.amazonaws-us-gov.com".into(),
        }
    }

    /// The host of global consoles (IAM, Route 53, billing), which take no region.
    fn global_host(self) -> &'static str {
        match self {
            Partition::Aws => "console.aws.amazon.com",
            Partition::China => "console.amazonaws.cn",
            Partition::GovCloud => "console.amazonaws-us-gov.com",
        }
    }

    pub fn signin_endpoint(self) -> &'static str {
        match self {
            Partition::Aws => "https://signin.aws.amazon.com",
            Partition::China => "https://signin.amazonaws.cn",
            Partition::GovCloud => "https://signin.amazonaws-us-gov.com",
        }
    }
}

/// How a service's console URL takes the region.
#[derive(Clone, Copy)]
enum Scope {
    /// `https://<regional host>/<path>?region=R`
    Regional,
    /// `https://<global host>/<path>`
    Global,
    /// S3 has its own host in the standard partition: `https://s3.console.aws.amazon.com/s3/home?region=R`.
    S3,
}

/// A console a shorthand names: its names, its path, how it takes the region, an optional fragment.
struct ConsoleService {
    names: &'static [&'static str],
    path: &'static str,
    scope: Scope,
    fragment: &'static str,
}

const fn svc(names: &'static [&'static str], path: &'static str) -> ConsoleService {
    ConsoleService {
        names,
        path,
        scope: Scope::Regional,
        fragment: "",
    }
}

const fn global(names: &'static [&'static str], path: &'static str) -> ConsoleService {
    ConsoleService {
        names,
        path,
        scope: Scope::Global,
        fragment: "",
    }
}

/// Every shorthand `--destination` knows; the first name of each is the one listed in messages.
const SERVICES: &[ConsoleService] = &[
    svc(&["console", "home"], "console/home"),
    ConsoleService {
        names: &["s3"],
        path: "s3/home",
        scope: Scope::S3,
        fragment: "",
    },
    svc(&["ec2"], "ec2/home"),
    ConsoleService {
        names: &["logs", "cloudwatch-logs"],
        path: "cloudwatch/home",
        scope: Scope::Regional,
        fragment: "#logsV2:log-groups",
    },
    svc(&["cloudwatch"], "cloudwatch/home"),
    global(&["iam"], "iam/home"),
    svc(&["lambda"], "lambda/home"),
    svc(&["rds"], "rds/home"),
    svc(&["dynamodb"], "dynamodbv2/home"),
    svc(&["cloudformation", "cfn"], "cloudformation/home"),
    svc(
        &["sso", "iam-identity-center", "identity-center"],
        "singlesignon/home",
    ),
    svc(&["vpc"], "vpc/home"),
    svc(&["ecs"], "ecs/home"),
    svc(&["ecr"], "ecr/home"),
    svc(&["eks"], "eks/home"),
    svc(&["sqs"], "sqs/home"),
    svc(&["sns"], "sns/home"),
    svc(&["kms"], "kms/home"),
    svc(&["secretsmanager", "secrets"], "secretsmanager/home"),
    svc(&["ssm", "systems-manager"], "systems-manager/home"),
    svc(&["cloudtrail"], "cloudtrail/home"),
    svc(&["athena"], "athena/home"),
    global(&["route53"], "route53/v2/home"),
    global(&["billing"], "billing/home"),
    global(&["organizations"], "organizations/v2/home"),
];

/// The shorthands, as listed in messages and help.
pub fn known_destinations() -> Vec<&'static str> {
    SERVICES.iter().map(|s| s.names[0]).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("unknown console destination {name:?}")]
    UnknownDestination { name: String },
    #[error("the destination {value:?} is not an https URL")]
    BadDestination { value: String },
    #[error("could not reach the sign-in endpoint {endpoint}: {detail}")]
    Network { endpoint: String, detail: String },
    #[error("the sign-in endpoint {endpoint} refused the role credentials (HTTP {status})")]
    Refused { endpoint: String, status: u16 },
    #[error("the sign-in endpoint {endpoint} answered without a SigninToken (HTTP {status})")]
    InvalidResponse { endpoint: String, status: u16 },
}

impl ConsoleError {
    pub fn hint(&self) -> String {
        match self {
            ConsoleError::UnknownDestination { .. } => format!(
                "use a full https:// console URL, or one of: {}",
                known_destinations().join(", ")
            ),
            ConsoleError::BadDestination { .. } => {
                "pass a full URL such as https://console.aws.amazon.com/ec2/home, or a service name like ec2"
                    .into()
            }
            ConsoleError::Network { .. } => format!(
                "check your network; {SIGNIN_ENDPOINT_VAR} overrides the sign-in endpoint"
            ),
            ConsoleError::Refused { .. } => {
                "the role may be denied console sign-in; without --federated the access portal signs you in".into()
            }
            ConsoleError::InvalidResponse { .. } => format!(
                "check {SIGNIN_ENDPOINT_VAR} if it is set; without --federated the access portal signs you in"
            ),
        }
    }
}

/// The console URL for `--destination`: a full https URL as given, or a shorthand expanded for `region`.
pub fn destination(spec: &str, region: &str) -> Result<String, ConsoleError> {
    let spec = spec.trim();
    if spec.contains("://") {
        let ok = spec.strip_prefix("https://").is_some_and(|rest| {
            !rest.is_empty()
                && !rest.starts_with('/')
                && !spec.chars().any(|c| c.is_whitespace() || c.is_control())
        });
        return if ok {
            Ok(spec.to_string())
        } else {
            Err(ConsoleError::BadDestination {
                value: sanitize(spec, 200),
            })
        };
    }
    let wanted = spec.to_ascii_lowercase();
    let service = SERVICES
        .iter()
        .find(|s| s.names.contains(&wanted.as_str()))
        .ok_or_else(|| ConsoleError::UnknownDestination {
            name: sanitize(spec, 60),
        })?;
    Ok(service_url(service, region))
}

/// The console home of `region`: where a sign-in without `--destination` lands.
pub fn home(region: &str) -> String {
    service_url(&SERVICES[0], region)
}

fn service_url(s: &ConsoleService, region: &str) -> String {
    let partition = Partition::of_region(region);
    let base = match (s.scope, partition) {
        (Scope::Global, p) => {
            return format!("https://{}/{}{}", p.global_host(), s.path, s.fragment);
        }
        (Scope::S3, Partition::Aws) => format!("https://s3.console.aws.amazon.com/{}", s.path),
        (_, p) => format!("https://{}/{}", p.console_host(region), s.path),
    };
    format!("{base}?region={region}{}", s.fragment)
}

/// The access portal's console shortcut: the portal signs the browser in to the role, so no credentials
/// are needed here. `start_url` may end with `/` or `#/`, as people paste it.
pub fn shortcut_url(
    start_url: &str,
    account_id: &str,
    role_name: &str,
    destination: Option<&str>,
) -> String {
    let base = start_url.trim();
    let base = base.strip_suffix("#/").unwrap_or(base);
    let base = base.strip_suffix('#').unwrap_or(base);
    let base = base.trim_end_matches('/');
    let mut url = format!(
        "{base}/#/console?account_id={}&role_name={}",
        encode(account_id),
        encode(role_name)
    );
    if let Some(d) = destination {
        url.push_str("&destination=");
        url.push_str(&encode(d));
    }
    url
}

/// The colours a container can be created with by the "Open external links in a container" extension
/// (its `color` parameter accepts only these).
pub const CONTAINER_COLORS: [&str; 8] = [
    "blue",
    "turquoise",
    "green",
    "yellow",
    "orange",
    "red",
    "pink",
    "purple",
];

/// The longest container name awsso builds or accepts.
pub const MAX_CONTAINER_NAME: usize = 100;
/// How much of the account name goes into a container name.
const MAX_CONTAINER_ACCOUNT: usize = 64;

/// The link the "Open external links in a container" Firefox extension (honsiorovskyi) handles: open `url`
/// in the container `name`, creating it with `color` when it does not exist. Every value is
/// percent-encoded, so a name holding `&`, `=`, `#` or a newline stays inside its parameter (the
/// extension reads them with `URLSearchParams`, which also reads `+` as a space: it is encoded too).
pub fn container_url(name: &str, color: &str, url: &str) -> String {
    format!(
        "ext+container:name={}&color={}&url={}",
        encode(name),
        encode(color),
        encode(url)
    )
}

/// The container of an account's role, e.g. `Prod Payments/ReadOnlyAccess`: the account name as served
/// (untrusted: control characters become spaces, runs of spaces one, at most 64 characters), or the
/// account id when nothing is left of it.
pub fn container_name(account_name: Option<&str>, account_id: &str, role_name: &str) -> String {
    let cleaned = account_name
        .map(|n| {
            n.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .map(|n| n.chars().take(MAX_CONTAINER_ACCOUNT).collect::<String>())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let account = cleaned.unwrap_or_else(|| account_id.to_string());
    let name = format!("{account}/{role_name}");
    name.chars().take(MAX_CONTAINER_NAME).collect()
}

/// Whether a container name given with `--container-name` is usable: not blank, at most
/// [`MAX_CONTAINER_NAME`] characters, no control characters.
pub fn is_valid_container_name(name: &str) -> bool {
    !name.trim().is_empty()
        && name.chars().count() <= MAX_CONTAINER_NAME
        && !name.chars().any(char::is_control)
}

/// The container colour of a profile: its `granted_color` when that is a container colour, else the
/// container colour nearest its `color` (6 hex digits, `#` allowed), else the colour `awsso sync` would
/// give the account by default (the built-in rules on its name, else a hash of its id).
pub fn container_color(
    granted_color: Option<&str>,
    color: Option<&str>,
    account_name: Option<&str>,
    account_id: &str,
) -> &'static str {
    if let Some(known) = granted_color
        .map(|g| g.trim().to_ascii_lowercase())
        .and_then(|g| CONTAINER_COLORS.iter().find(|c| **c == g))
    {
        return known;
    }
    let hex = color
        .map(|c| c.trim().trim_start_matches('#').to_ascii_lowercase())
        .filter(|c| c.len() == 6 && c.chars().all(|d| d.is_ascii_hexdigit()));
    let hex = hex.unwrap_or_else(|| {
        account_name
            .and_then(crate::profiles::builtin_color)
            .unwrap_or_else(|| crate::profiles::hashed_color(account_id))
            .to_string()
    });
    crate::profiles::container_color(&hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthands_expand_per_partition() {
        assert_eq!(
            destination("ec2", "eu-west-1").unwrap(),
            "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1"
        );
        assert_eq!(
            destination("S3", "eu-west-1").unwrap(),
            "https://s3.console.aws.amazon.com/s3/home?region=eu-west-1"
        );
        assert_eq!(
            destination("logs", "us-east-2").unwrap(),
            "https://us-east-2.console.aws.amazon.com/cloudwatch/home?region=us-east-2#logsV2:log-groups"
        );
        assert_eq!(
            destination("iam", "eu-west-1").unwrap(),
            "https://console.aws.amazon.com/iam/home"
        );
        assert_eq!(
            destination("sso", "eu-central-1").unwrap(),
            "https://eu-central-1.console.aws.amazon.com/singlesignon/home?region=eu-central-1"
        );
        assert_eq!(
            destination("iam-identity-center", "eu-central-1").unwrap(),
            destination("sso", "eu-central-1").unwrap()
        );
        assert_eq!(
            destination("dynamodb", "us-west-2").unwrap(),
            "https://us-west-2.console.aws.amazon.com/dynamodbv2/home?region=us-west-2"
        );
        // China and GovCloud: one console host each, region in the query; S3 has no host of its own.
        assert_eq!(
            destination("ec2", "cn-north-1").unwrap(),
            "https://console.amazonaws.cn/ec2/home?region=cn-north-1"
        );
        assert_eq!(
            destination("s3", "cn-northwest-1").unwrap(),
            "https://console.amazonaws.cn/s3/home?region=cn-northwest-1"
        );
        assert_eq!(
            destination("iam", "cn-north-1").unwrap(),
            "https://console.amazonaws.cn/iam/home"
        );
        assert_eq!(
            destination("lambda", "us-gov-west-1").unwrap(),
            "https://console.amazonaws-us-gov.com/lambda/home?region=us-gov-west-1"
        );
        assert_eq!(
            destination("s3", "us-gov-east-1").unwrap(),
            "https://console.amazonaws-us-gov.com/s3/home?region=us-gov-east-1"
        );
        assert_eq!(
            home("eu-west-1"),
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
        );
    }

    #[test]
    fn urls_pass_and_junk_is_refused() {
        let url = "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#Instances:";
        assert_eq!(destination(url, "us-east-1").unwrap(), url);
        for bad in [
            "http://example.com/x",
            "https://",
            "https:///path",
            "https://a b",
            "javascript://x",
        ] {
            assert!(
                matches!(
                    destination(bad, "us-east-1"),
                    Err(ConsoleError::BadDestination { .. })
                ),
                "{bad}"
            );
        }
        let e = destination("nope", "us-east-1").unwrap_err();
        assert!(matches!(e, ConsoleError::UnknownDestination { .. }));
        assert!(e.hint().contains("s3") && e.hint().contains("ec2") && e.hint().contains("logs"));
    }

    #[test]
    fn shortcut_urls_encode_every_part() {
        let d = "https://s3.console.aws.amazon.com/s3/home?region=eu-west-1&x=a b";
        let expected = "https://d-1.awsapps.com/start/#/console?account_id=111111111111\
                        &role_name=Admin%2BOps&destination=https%3A%2F%2Fs3.console.aws.amazon.com\
                        %2Fs3%2Fhome%3Fregion%3Deu-west-1%26x%3Da%20b";
        for start in [
            "https://d-1.awsapps.com/start",
            "https://d-1.awsapps.com/start/",
            "https://d-1.awsapps.com/start#/",
            "https://d-1.awsapps.com/start/#/",
        ] {
            assert_eq!(
                shortcut_url(start, "111111111111", "Admin+Ops", Some(d)),
                expected
            );
        }
        assert_eq!(
            shortcut_url("https://d-1.awsapps.com/start", "1", "R", None),
            "https://d-1.awsapps.com/start/#/console?account_id=1&role_name=R"
        );
    }

    #[test]
    fn container_links_keep_every_value_inside_its_parameter() {
        assert_eq!(
            container_url(
                "Prod & Co=1/Admin",
                "red",
                "https://d-1.awsapps.com/start/#/console?account_id=1&role_name=R+x"
            ),
            "ext+container:name=Prod%20%26%20Co%3D1%2FAdmin&color=red&url=https%3A%2F%2Fd-1.awsapps.com\
             %2Fstart%2F%23%2Fconsole%3Faccount_id%3D1%26role_name%3DR%2Bx"
        );
        assert_eq!(
            container_name(Some("evil\n[profile x]\t a"), "111111111111", "Admin"),
            "evil [profile x] a/Admin"
        );
        assert_eq!(
            container_name(Some(" \n "), "111111111111", "Admin"),
            "111111111111/Admin"
        );
        assert_eq!(
            container_name(None, "111111111111", "Admin"),
            "111111111111/Admin"
        );
        let long = container_name(Some(&"x".repeat(300)), "1", "R");
        assert_eq!(long, format!("{}/R", "x".repeat(64)));
        assert!(!is_valid_container_name("a\nb"));
        assert!(!is_valid_container_name(&"a".repeat(101)));
        assert!(!is_valid_container_name("  "));
        assert!(is_valid_container_name("Work & Play"));
    }

    #[test]
    fn container_colours_prefer_the_profiles_own() {
        assert_eq!(
            container_color(Some("Purple"), Some("cc0000"), None, "1"),
            "purple"
        );
        // Not a container colour: the hex decides.
        assert_eq!(
            container_color(Some("toolbar"), Some("#cc0000"), None, "1"),
            "red"
        );
        assert_eq!(container_color(None, Some("2e8b57"), None, "1"), "green");
        assert_eq!(
            container_color(None, Some("zzz"), Some("payments-prod"), "1"),
            "red"
        );
        assert_eq!(container_color(None, None, Some("staging"), "1"), "orange");
        let hashed = container_color(None, None, Some("plain"), "123456789012");
        assert_eq!(
            hashed,
            crate::profiles::container_color(crate::profiles::hashed_color("123456789012"))
        );
    }

    #[test]
    fn partitions_and_signin_hosts() {
        assert_eq!(Partition::of_region("eu-west-1"), Partition::Aws);
        assert_eq!(Partition::of_region("cn-north-1"), Partition::China);
        assert_eq!(Partition::of_region("us-gov-west-1"), Partition::GovCloud);
        assert_eq!(
            Partition::China.signin_endpoint(),
            "https://signin.amazonaws.cn"
        );
        assert_eq!(
            Partition::GovCloud.signin_endpoint(),
            "https://signin.amazonaws-us-gov.com"
        );
        assert_eq!(
            Partition::Aws.signin_endpoint(),
            "https://signin.aws.amazon.com"
        );
    }
}
