//! The read path: cache first, then the database, then fill the cache.

use std::future::Future;
use std::sync::Arc;

use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use telemetry::Counter;

use super::cache::{Cache, CacheError};
use super::entity::{self, InvalidRow};
use contract::{Product, ProductId, ProductPage};

use crate::domain::{page_of, PageRequest};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database query failed")]
    Database(#[from] DbErr),
    #[error(transparent)]
    InvalidRow(#[from] InvalidRow),
}

/// `webstore_catalog_cache_requests_total{result}`: every cache lookup is a `hit` or a `miss`,
/// or an `error` (Redis unreachable, failed, or returned something unreadable); a failed cache
/// write after a miss also counts as an `error`.
#[derive(Debug, Clone)]
struct CacheMetrics {
    hit: Arc<Counter>,
    miss: Arc<Counter>,
    error: Arc<Counter>,
}

impl CacheMetrics {
    fn new(telemetry: &telemetry::Telemetry) -> Self {
        let family = telemetry.counter(
            "webstore_catalog_cache_requests",
            "Catalog cache lookups by result (hit, miss, error); failed cache writes count as error.",
            &["result"],
        );
        // Created up front so every series exists from the first scrape: rate() over a series
        // that appears mid-way misses its first increments.
        Self {
            hit: family.get(&["hit"]),
            miss: family.get(&["miss"]),
            error: family.get(&["error"]),
        }
    }
}

/// Products, read through the cache. Shared by every worker (`web::Data`).
#[derive(Debug)]
pub struct Catalog {
    db: DatabaseConnection,
    cache: Cache,
    key_prefix: String,
    metrics: CacheMetrics,
}

impl Catalog {
    pub fn new(
        db: DatabaseConnection,
        cache: Cache,
        key_prefix: String,
        telemetry: &telemetry::Telemetry,
    ) -> Self {
        Self {
            db,
            cache,
            key_prefix,
            metrics: CacheMetrics::new(telemetry),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Cache key of one product: `{prefix}catalog:product:{id}`.
    pub fn product_key(&self, id: &ProductId) -> String {
        format!("{}catalog:product:{id}", self.key_prefix)
    }

    /// Cache key of one page: `{prefix}catalog:products:{limit}:{cursor}` (`-` for the first page).
    pub fn page_key(&self, request: &PageRequest) -> String {
        let cursor = request.after.as_ref().map(|c| c.encode());
        format!(
            "{}catalog:products:{}:{}",
            self.key_prefix,
            request.limit.get(),
            cursor.as_deref().unwrap_or("-")
        )
    }

    /// One product, or `None` if there is no such id. Unknown ids are not cached: the catalog
    /// is small and a negative entry would hide a product added later.
    pub async fn product(&self, id: &ProductId) -> Result<Option<Product>, StoreError> {
        self.read_through(&self.product_key(id), || async {
            let row = entity::Entity::find_by_id(id.as_str().to_owned())
                .one(&self.db)
                .await?;
            Ok(row.map(entity::Model::product).transpose()?)
        })
        .await
    }

    /// One page of products in id order.
    pub async fn page(&self, request: &PageRequest) -> Result<ProductPage, StoreError> {
        let page = self
            .read_through(&self.page_key(request), || async {
                let mut query = entity::Entity::find();
                if let Some(cursor) = &request.after {
                    query = query.filter(entity::Column::Id.gt(cursor.last_id().as_str()));
                }
                let rows = query
                    .order_by_asc(entity::Column::Id)
                    .limit(u64::from(request.limit.get()) + 1)
                    .all(&self.db)
                    .await?;
                let products = rows
                    .into_iter()
                    .map(entity::Model::product)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(page_of(products, request.limit)))
            })
            .await?;
        // `load` above always returns `Some`; an empty page is still a page.
        Ok(page.unwrap_or(ProductPage {
            items: Vec::new(),
            next_cursor: None,
        }))
    }

    /// Looks `key` up; on a miss loads from the database and stores the result. A cache failure
    /// never fails the request: it is counted, logged, and the database answers.
    async fn read_through<T, F, Fut>(&self, key: &str, load: F) -> Result<Option<T>, StoreError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>, StoreError>>,
    {
        let mut write_back = true;
        match self.cache.get(key).await {
            Ok(Some(json)) => match serde_json::from_str(&json) {
                Ok(value) => {
                    self.metrics.hit.inc();
                    record_cache_result("hit");
                    return Ok(Some(value));
                }
                // Written by an older version, or corrupted: replace it.
                Err(e) => {
                    self.metrics.error.inc();
                    record_cache_result("error");
                    tracing::warn!(
                        cache.key = key,
                        error = &e as &dyn std::error::Error,
                        "unreadable cache entry"
                    );
                }
            },
            Ok(None) => {
                self.metrics.miss.inc();
                record_cache_result("miss");
            }
            Err(e) => {
                self.metrics.error.inc();
                record_cache_result("error");
                self.log_cache_error("cache read failed; reading from the database", &e);
                // The cache just failed; a write would most likely fail too and cost a timeout.
                write_back = false;
            }
        }
        let value = load().await?;
        if let (true, Some(v)) = (write_back, &value) {
            match serde_json::to_string(v) {
                Ok(json) => {
                    if let Err(e) = self.cache.set(key, &json).await {
                        self.metrics.error.inc();
                        self.log_cache_error("cache write failed", &e);
                    }
                }
                Err(e) => tracing::error!(
                    error = &e as &dyn std::error::Error,
                    "could not serialise a cache entry"
                ),
            }
        }
        Ok(value)
    }

    fn log_cache_error(&self, message: &str, e: &CacheError) {
        match e {
            // The breaker logged when it opened; one line per request would flood the logs.
            CacheError::Backoff(_) => tracing::debug!(
                error = e as &dyn std::error::Error,
                cache = self.cache.system(),
                "{message}"
            ),
            _ => tracing::warn!(
                error = e as &dyn std::error::Error,
                cache = self.cache.system(),
                "{message}"
            ),
        }
    }
}

/// `webstore.cache.result` on the enclosing span (the request's server span): an attribute
/// added to a span that exists anyway, instead of a span of its own. Nothing happens for an
/// unsampled request or without the OpenTelemetry layer (`OTEL_SDK_DISABLED=true`).
///
/// Through the OpenTelemetry context the layer activated when the span was entered (a
/// thread-local read), not `tracing::Span::current().set_attribute`, which looks the span up in
/// the registry and builds its context anew: 1.3 k instructions of a cached read's 34 k of
/// telemetry (docs/BENCHMARKS.md).
fn record_cache_result(result: &'static str) {
    use telemetry::opentelemetry::trace::TraceContextExt;
    use telemetry::opentelemetry::{Context, KeyValue};
    Context::map_current(|cx| {
        cx.span()
            .set_attribute(KeyValue::new("webstore.cache.result", result));
    });
}
