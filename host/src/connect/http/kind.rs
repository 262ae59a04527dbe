//! HTTP connections as a kind: their settings, the deploy check (an
//! http(s) base URL, valid header names), the served connection (a client
//! per settings) and the backend's test (a `GET` of the base URL).

use super::HttpClient;
use super::settings::HttpConfig;
use crate::confine::Confinement;
use crate::connect::Pools;
use crate::connect::kind::{Kind, NotWorking, SettingsError, typed};
use crate::runtime::{
    BoxFuture, Connection, ConnectorError, HttpConnection, HttpRequest, HttpResponse,
};
use crate::store::model::ConnectionRecord;
use std::sync::Arc;
use std::time::Duration;

/// The HTTP kind.
pub struct Http;

impl Kind for Http {
    fn check(&self, record: &ConnectionRecord, _: &Confinement) -> Result<(), SettingsError> {
        let config: HttpConfig = typed(&record.config)?;
        let url = reqwest::Url::parse(&config.url)
            .map_err(|e| SettingsError::Invalid(format!("config.url is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SettingsError::Invalid(
                "config.url must be http: or https:".into(),
            ));
        }
        for name in config.headers.keys() {
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                SettingsError::Invalid(format!("config.headers: `{name}` is not a header name"))
            })?;
        }
        Ok(())
    }

    fn serve(&self, record: ConnectionRecord, pools: Arc<Pools>, _: Duration) -> Connection {
        Connection::Http(Arc::new(Served {
            record,
            pools,
            opened: tokio::sync::OnceCell::new(),
        }))
    }

    fn test<'a>(
        &self,
        record: &'a ConnectionRecord,
        _: &'a Confinement,
    ) -> BoxFuture<'a, Result<String, NotWorking>> {
        Box::pin(async move {
            let config: HttpConfig = typed(&record.config).map_err(|e| e.to_string())?;
            let client = HttpClient::new(&config).map_err(|e| format!("{e:?}"))?;
            let answer = client
                .send(HttpRequest {
                    method: "GET".into(),
                    path: String::new(),
                    headers: Vec::new(),
                    body: Vec::new(),
                })
                .await
                .map_err(|e| format!("{e:?}"))?;
            Ok(format!("the base URL answered {}", answer.status))
        })
    }
}

/// An HTTP connection of a revision: the node's client for its settings,
/// found on first use and kept for the revision's life.
struct Served {
    record: ConnectionRecord,
    pools: Arc<Pools>,
    opened: tokio::sync::OnceCell<Arc<HttpClient>>,
}

impl Served {
    async fn open_client(&self) -> Result<Arc<HttpClient>, ConnectorError> {
        let record = &self.record;
        let config: HttpConfig = typed(&record.config)
            .map_err(|e| ConnectorError::NotFound(format!("`{}`: {e}", record.name)))?;
        let key = format!("http\n{}\n{}", record.name, record.config);
        self.pools
            .shared()
            .get_or_open(key, |_| true, || async { HttpClient::new(&config) })
            .await
    }
}

impl HttpConnection for Served {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, ConnectorError>> {
        Box::pin(async move {
            let client = self.opened.get_or_try_init(|| self.open_client()).await?;
            client.send(request).await
        })
    }
}
