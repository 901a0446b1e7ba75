//! Checks made before the node starts, so that a configuration that cannot work stops the node
//! with a message that says what to change instead of a deep error (or a silent fallback).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};

use sc_network::multiaddr::Protocol;
use sc_service::Configuration;

/// Fails if a TCP port the node is configured to listen on (p2p, RPC, Prometheus) is taken.
pub fn check_ports(config: &Configuration) -> Result<(), String> {
	let mut wanted: Vec<(SocketAddr, &'static str, &'static str)> = Vec::new();
	for addr in &config.network.listen_addresses {
		let mut ip = None;
		let mut port = None;
		for protocol in addr.iter() {
			match protocol {
				Protocol::Ip4(v4) => ip = Some(IpAddr::V4(v4)),
				Protocol::Ip6(v6) => ip = Some(IpAddr::V6(v6)),
				Protocol::Tcp(p) => port = Some(p),
				_ => {},
			}
		}
		if let (Some(ip), Some(port)) = (ip, port) {
			wanted.push((SocketAddr::new(ip, port), "p2p", "--port"));
		}
	}
	for endpoint in config.rpc.addr.iter().flatten() {
		// IPv6 endpoints are optional in Substrate (not every host has IPv6).
		if !endpoint.is_optional {
			wanted.push((endpoint.listen_addr, "RPC", "--rpc-port"));
		}
	}
	if let Some(prometheus) = &config.prometheus_config {
		wanted.push((prometheus.port, "Prometheus", "--prometheus-port"));
	}

	for (addr, what, flag) in wanted {
		// Port 0 means "any free port".
		if addr.port() == 0 || !host_has(addr.ip()) {
			continue;
		}
		if let Err(e) = TcpListener::bind(addr) {
			if e.kind() == std::io::ErrorKind::AddrInUse {
				return Err(format!(
					"the {what} port {} is already in use ({addr}): stop the process holding it or \
					 choose another with {flag}",
					addr.port()
				));
			}
		}
	}
	Ok(())
}

/// Whether this host can bind `ip` at all (skips, e.g., IPv6 on hosts without it).
fn host_has(ip: IpAddr) -> bool {
	let any = match ip {
		IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
		IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
	};
	TcpListener::bind(SocketAddr::new(any, 0)).is_ok()
}
