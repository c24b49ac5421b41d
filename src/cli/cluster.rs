//! `weir cluster`: the brokers, the controller and the cluster id. Sends DescribeCluster
//! (brokers endpoint type) when the broker serves it, Metadata (no topics) otherwise.

use kafka_protocol::messages::DescribeClusterRequest;
use serde_json::json;

use super::client::{BrokerInfo, Client};
use super::output::{self, Table};
use super::{CliError, ClientArgs};

pub async fn run(args: &ClientArgs) -> Result<(), CliError> {
    let mut client = Client::connect(&args.bootstrap_server).await?;
    let (cluster_id, controller, mut brokers) = if client.any().supports::<DescribeClusterRequest>()
    {
        let (resp, _) = client
            .any()
            .send(|_| DescribeClusterRequest::default())
            .await?;
        super::check(
            resp.error_code,
            "DescribeCluster",
            resp.error_message.as_ref().map(|m| m.to_string()),
        )?;
        let brokers = resp
            .brokers
            .iter()
            .map(|b| BrokerInfo {
                id: b.broker_id.0,
                host: b.host.to_string(),
                port: b.port,
                rack: b.rack.as_ref().map(|r| r.to_string()),
            })
            .collect::<Vec<_>>();
        (
            Some(resp.cluster_id.to_string()),
            resp.controller_id.0,
            brokers,
        )
    } else {
        let meta = client.metadata(Some(&[])).await?;
        (meta.cluster_id, meta.controller_id, meta.brokers)
    };
    brokers.sort_by_key(|b| b.id);
    if args.json {
        let items: Vec<_> = brokers.iter().map(BrokerInfo::to_json).collect();
        output::json(&json!({
            "cluster_id": cluster_id,
            "controller_id": controller,
            "brokers": items,
        }));
        return Ok(());
    }
    output::emit(&format!(
        "Cluster ID:  {}\nController:  {}\n\n",
        cluster_id.as_deref().unwrap_or("-"),
        if controller >= 0 {
            controller.to_string()
        } else {
            "none".to_string()
        }
    ));
    let mut table = Table::new(&["ID", "HOST:PORT", "RACK", "CONTROLLER"]);
    for b in &brokers {
        table.row(vec![
            b.id.to_string(),
            format!("{}:{}", b.host, b.port),
            b.rack.clone().unwrap_or_else(|| "-".to_string()),
            if b.id == controller {
                "yes".to_string()
            } else {
                String::new()
            },
        ]);
    }
    table.print();
    Ok(())
}
