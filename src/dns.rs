//! MX lookups, for telling Google Workspace and Microsoft 365 domains apart when `--authorize`
//! is given an address and no provider. Through hickory-resolver, with the nameservers of
//! /etc/resolv.conf; each lookup has a deadline, and a lookup that fails or times out only means
//! the provider is asked for as before.

use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use crate::environment;

/// Test-only: `IP:PORT` of the one nameserver to ask instead of /etc/resolv.conf's, so the tests
/// can answer MX queries from a server on loopback. Not for users: nothing else changes where
/// DNS goes.
pub const TEST_NAMESERVER_VARIABLE: &str = "MAILTOKEN_TEST_NAMESERVER";

/// Test-only: the deadline of one MX lookup in seconds, instead of `LOOKUP_DEADLINE`.
pub const DEADLINE_VARIABLE: &str = "MAILTOKEN_DNS_TIMEOUT";

/// How long one MX lookup may take in all, retries included: a slow resolver must not hold up a
/// sign-in for long, as the provider can always be asked for or given with `--provider`.
const LOOKUP_DEADLINE: Duration = Duration::from_secs(5);

/// The mail exchangers of `domain`, most preferred first, lower-case and without the final dot;
/// `Err` says why there are none to be had (no records, no answer in time, no resolver).
pub fn mx_hosts(domain: &str) -> Result<Vec<String>, String> {
    let deadline =
        environment::seconds_from_env(DEADLINE_VARIABLE, LOOKUP_DEADLINE, Duration::from_secs(60));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the resolver: {e}"))?;
    // A fully qualified name: no search domains appended.
    let name = format!("{}.", domain.trim_end_matches('.'));
    runtime.block_on(async {
        let resolver = resolver(deadline)?;
        let lookup = tokio::time::timeout(deadline, resolver.mx_lookup(name.as_str()))
            .await
            .map_err(|_| format!("no answer within {} s", deadline.as_secs()))?
            .map_err(|e| crate::log::sanitize(&e.to_string()))?;
        let mut found: Vec<(u16, String)> = lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::MX(mx) => Some((
                    mx.preference,
                    mx.exchange
                        .to_ascii()
                        .trim_end_matches('.')
                        .to_ascii_lowercase(),
                )),
                _ => None,
            })
            .collect();
        found.sort();
        Ok(found.into_iter().map(|(_, host)| host).collect())
    })
}

/// The system's resolver, or the test's nameserver.
fn resolver(deadline: Duration) -> Result<Resolver<TokioRuntimeProvider>, String> {
    let provider = TokioRuntimeProvider::default();
    let mut builder = match std::env::var(TEST_NAMESERVER_VARIABLE) {
        Ok(address) => {
            let address: std::net::SocketAddr = address
                .parse()
                .map_err(|_| format!("{TEST_NAMESERVER_VARIABLE} is not IP:PORT"))?;
            let mut server = NameServerConfig::udp(address.ip());
            for connection in &mut server.connections {
                connection.port = address.port();
            }
            Resolver::builder_with_config(ResolverConfig::from_name_servers(vec![server]), provider)
        }
        Err(_) => Resolver::builder(provider)
            .map_err(|e| format!("cannot read the resolver configuration: {e}"))?,
    };
    let options: &mut ResolverOpts = builder.options_mut();
    options.timeout = deadline;
    options.attempts = 1;
    builder
        .build()
        .map_err(|e| format!("cannot start the resolver: {e}"))
}
