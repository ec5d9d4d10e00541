//! The HTTP server: routes, shared state, middleware (body limit, request logs, JSON errors),
//! `/healthz`, the OpenAPI document, and start-up with graceful shutdown.
//!
//! Handlers keep no state of their own: everything lives in the store, so several nodes can
//! serve one PostgreSQL database.

pub mod account;
pub mod admin;
pub mod alerts;
pub mod attempts;
pub mod auth;
pub mod bindings;
pub mod common_errors;
pub mod dashboard;
pub mod device;
pub mod error;
pub mod fleet;
pub mod fleet_tokens;
pub mod guard;
pub mod login;
pub mod overview;
pub mod report;
pub mod update;
pub mod watch;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{OpenApi, ToSchema};

use self::error::{ApiResult, ErrorBody};
use crate::clock::Clock;
use crate::config::ServeConfig;
use crate::error::{Error, Result};
use crate::store::{self, Store};

/// What every handler can reach: the store and the settings. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServeConfig>,
    /// A hash of a random password, verified against when the e-mail is unknown, so a login
    /// takes as long whether or not the account exists.
    pub dummy_hash: Arc<String>,
    /// Merged policies by the text of their layers (every upload answers with one).
    pub policy_cache: Arc<crate::ops::PolicyCache>,
    /// Holds off addresses that send many unknown device secrets.
    pub secret_guard: Arc<guard::SecretGuard>,
    /// Bounds the password hashes computed at once, and counts them.
    pub login_gate: Arc<attempts::LoginGate>,
    /// Where handlers read the time.
    pub clock: Clock,
}

/// `/healthz` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub database: String,
}

/// Liveness and database reachability: 503 (`database_unavailable`, with why and
/// `Retry-After`) while the database cannot be used.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, body = Health), (status = 500, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.store.ping().await?;
    Ok(Json(Health {
        status: "ok".into(),
        database: state.store.backend().into(),
    }))
}

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "device_secret",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(title = "Worktrace server API", description = "Enrollment, ingest, dashboard and admin API. Errors are {\"error\": {\"code\", \"message\"}}. People authenticate with the session cookie from /api/auth/login and send X-CSRF-Token on state-changing requests; devices send Authorization: Bearer <device secret>."),
    paths(
        healthz,
        device::enroll, device::ingest, device::policy, update::check, update::download,
        login::login, login::logout, login::me, login::my_policy,
        account::sessions, account::end_session, account::logout_everywhere,
        account::change_password, account::reset_password,
        dashboard::teams, dashboard::members, dashboard::now, dashboard::person_day,
        dashboard::trends, dashboard::timesheet, alerts::alerts, alerts::acknowledge,
        admin::list_users, admin::create_user, admin::create_team, admin::set_membership,
        admin::create_token, admin::list_devices, admin::revoke_device, admin::get_policy,
        admin::put_policy, admin::put_team_policy, admin::audit, admin::audit_csv,
        admin::deactivate_user, admin::remove_membership, admin::delete_team,
        admin::create_password_reset, admin::allow_medium, fleet::versions,
        fleet_tokens::create, fleet_tokens::list, fleet_tokens::revoke,
        watch::list, watch::mark, watch::change, watch::end, watch::report_json,
        watch::report_csv, watch::report_pdf, watch::risk,
    ),
    modifiers(&SecurityAddon)
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The dashboard pages' own endpoints, merged into the document.
#[derive(OpenApi)]
#[openapi(paths(
    overview::team_day,
    overview::person_hours,
    overview::memberships,
    report::team_report
))]
#[derive(Debug)]
pub struct DashboardDoc;

/// The whole OpenAPI document, as served at `/api/openapi.json` and as the dashboard's types
/// are generated from (see `bindings`).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi().merge_from(DashboardDoc::openapi());
    common_errors::add(&mut doc);
    doc
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}

/// All routes with their middleware.
pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/openapi.json", get(openapi))
        .route("/api/devices/enroll", post(device::enroll))
        .route("/api/ingest", post(device::ingest))
        .route("/api/devices/policy", get(device::policy))
        .route("/api/devices/update", post(update::check))
        .route("/api/devices/releases/{release_id}", get(update::download))
        .route("/api/auth/login", post(login::login))
        .route("/api/auth/logout", post(login::logout))
        .route("/api/me", get(login::me))
        .route("/api/me/policy", get(login::my_policy))
        .route("/api/me/sessions", get(account::sessions))
        .route(
            "/api/me/sessions/{session_id}",
            delete(account::end_session),
        )
        .route("/api/me/password", post(account::change_password))
        .route(
            "/api/auth/logout-everywhere",
            post(account::logout_everywhere),
        )
        .route("/api/auth/password-reset", post(account::reset_password))
        .route("/api/teams", get(dashboard::teams))
        .route("/api/teams/{team_id}/members", get(dashboard::members))
        .route("/api/teams/{team_id}/now", get(dashboard::now))
        .route("/api/teams/{team_id}/trends", get(dashboard::trends))
        .route(
            "/api/teams/{team_id}/timesheet.csv",
            get(dashboard::timesheet),
        )
        .route(
            "/api/people/{user_id}/days/{day}",
            get(dashboard::person_day),
        )
        .route("/api/alerts", get(alerts::alerts))
        .route(
            "/api/alerts/{alert_id}/acknowledge",
            post(alerts::acknowledge),
        )
        .route(
            "/api/admin/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route("/api/admin/teams", post(admin::create_team))
        .route("/api/admin/teams/{team_id}", delete(admin::delete_team))
        .route(
            "/api/admin/teams/{team_id}/members/{user_id}",
            put(admin::set_membership).delete(admin::remove_membership),
        )
        .route(
            "/api/admin/users/{user_id}/deactivate",
            post(admin::deactivate_user),
        )
        .route(
            "/api/admin/users/{user_id}/password-reset",
            post(admin::create_password_reset),
        )
        .route(
            "/api/admin/teams/{team_id}/policy",
            put(admin::put_team_policy),
        )
        .route("/api/admin/enrollment-tokens", post(admin::create_token))
        .route("/api/admin/devices", get(admin::list_devices))
        .route("/api/admin/fleet", get(fleet::versions))
        .route(
            "/api/admin/fleet-tokens",
            get(fleet_tokens::list).post(fleet_tokens::create),
        )
        .route(
            "/api/admin/fleet-tokens/{token_id}/revoke",
            post(fleet_tokens::revoke),
        )
        .route(
            "/api/admin/devices/{device_id}/revoke",
            post(admin::revoke_device),
        )
        .route(
            "/api/admin/policy",
            get(admin::get_policy).put(admin::put_policy),
        )
        .route("/api/admin/audit", get(admin::audit))
        .route("/api/admin/audit.csv", get(admin::audit_csv))
        .route("/api/admin/allowed-media", post(admin::allow_medium))
        .route("/api/watches", get(watch::list))
        .route("/api/people/{user_id}/risk", get(watch::risk))
        .route("/api/people/{user_id}/watch", post(watch::mark))
        .route("/api/watches/{watch_id}", put(watch::change))
        .route("/api/watches/{watch_id}/end", post(watch::end))
        .route("/api/watches/{watch_id}/report", get(watch::report_json))
        .route("/api/watches/{watch_id}/report.csv", get(watch::report_csv))
        .route("/api/watches/{watch_id}/report.pdf", get(watch::report_pdf))
        // The dashboard's pages and their own reads; every other path ends there.
        .merge(web::routes())
        // Every request is answered in time, 503 when the database is silent.
        .layer(axum::middleware::from_fn(error::answer_in_time))
        // The extractor's own limit and the transport limit agree; both answer 413.
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
        // Outside the limit layer, so its plain-text 413 is rewritten too.
        .layer(axum::middleware::from_fn(error::json_errors))
        // Every answer (JSON, CSV, PDF, errors) is read as the type it says and never kept in
        // a cache: they hold people's work time. The dashboard's files set their own caching.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

/// A running server: its address, and a handle to stop it gracefully.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    /// `https` when serving TLS, else `http`.
    pub scheme: &'static str,
    pub store: Store,
    /// The clock the handlers read (a manual one when started with [`start_with_clock`]).
    pub clock: Clock,
    login_gate: Arc<attempts::LoginGate>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// The address clients use: `https://127.0.0.1:8900`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Passwords verified since the start (logins and password changes): what the login
    /// limits bound.
    pub fn passwords_evaluated(&self) -> u64 {
        self.login_gate.evaluated()
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await.map_err(|e| Error::Task(e.to_string()))??;
        Ok(())
    }
}

/// Opens the store, binds the listen address and serves in a background task.
pub async fn start(config: ServeConfig) -> Result<Server> {
    let store = store::open(&config.database_url).await?;
    start_with_store(config, store).await
}

/// Opens the store and serves with `clock` as the handlers' time (tests move a manual one).
pub async fn start_with_clock(config: ServeConfig, clock: Clock) -> Result<Server> {
    let store = store::open(&config.database_url).await?;
    serve(config, store, clock).await
}

/// Serves with an already opened store.
pub async fn start_with_store(config: ServeConfig, store: Store) -> Result<Server> {
    serve(config, store, Clock::system()).await
}

async fn serve(mut config: ServeConfig, store: Store, clock: Clock) -> Result<Server> {
    config.check()?;
    // The files are read before anything else, so a wrong path fails the start at once.
    let tls = match &config.tls {
        Some(files) => Some(Arc::new(crate::tls::server_config(files)?)),
        None => None,
    };
    if tls.is_some() {
        // Every visitor arrives over HTTPS: the session cookie must never go out over HTTP.
        config.secure_cookies = true;
    }
    let listener = TcpListener::bind(config.listen).await.map_err(|e| {
        Error::Config(format!(
            "cannot listen on {}: {e}; choose another address with --listen",
            config.listen
        ))
    })?;
    let addr = listener.local_addr()?;
    if tls.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "serving plain HTTP to other machines: passwords, session cookies and device secrets \
             cross the network unencrypted unless an HTTPS proxy is the only way in; serve HTTPS \
             with --tls-cert FILE --tls-key FILE, or listen on 127.0.0.1 behind the proxy"
        );
    }
    let memory_kib = config.password_memory_kib;
    let dummy_hash = tokio::task::spawn_blocking(move || {
        crate::secret::hash_password(&crate::secret::random_token()?, memory_kib)
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))??;
    let login_gate = Arc::new(attempts::LoginGate::new(config.login_hash_permits));
    let state = AppState {
        store: store.clone(),
        config: Arc::new(config),
        dummy_hash: Arc::new(dummy_hash),
        policy_cache: Arc::default(),
        secret_guard: Arc::default(),
        login_gate: login_gate.clone(),
        clock: clock.clone(),
    };
    let app = if tls.is_some() {
        // Browsers that saw the server over HTTPS never try plain HTTP to it again.
        router(state).layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router(state)
    };
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let (tx, rx) = oneshot::channel::<()>();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let task = match tls {
        None => tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        }),
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let stop = handle.clone();
            tokio::spawn(async move {
                let _ = rx.await;
                // No deadline: requests in flight finish, as over plain HTTP.
                stop.graceful_shutdown(None);
            });
            let server = axum_server::from_tcp_rustls(
                listener.into_std()?,
                axum_server::tls_rustls::RustlsConfig::from_config(tls),
            )
            .handle(handle);
            tokio::spawn(async move { server.serve(app).await })
        }
    };
    tracing::info!(%addr, scheme, backend = store.backend(), "listening");
    Ok(Server {
        addr,
        scheme,
        store,
        clock,
        login_gate,
        shutdown: Some(tx),
        task,
    })
}
