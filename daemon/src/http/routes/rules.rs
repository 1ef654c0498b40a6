//! Follow and block rules.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use weft_protocol::api::{RuleBody, RuleChangeResponse, RulesResponse};
use weft_protocol::PublisherId;

use crate::error::NodeError;
use crate::http::error::{bad, ApiError, ApiResult};
use crate::http::{parse_body, ApiState};
use crate::rules::{Rule, RuleExt};

pub(crate) async fn rules(State(st): State<ApiState>) -> ApiResult<RulesResponse> {
    Ok(Json(described(&st)))
}

/// The rules, with how to show every publisher they name.
fn described(st: &ApiState) -> RulesResponse {
    let mut r = st.node.rules.describe();
    let named: Vec<PublisherId> = [&r.follow, &r.config.follow]
        .iter()
        .flat_map(|f| f.publishers.iter().chain(&f.vouched_by))
        .chain(r.block.publishers.iter())
        .chain(r.config.block.publishers.iter())
        .copied()
        .collect();
    r.names = named
        .into_iter()
        .map(|p| (p, st.node.describe(&p, None)))
        .collect();
    r
}

pub(crate) fn rule_of(st: &ApiState, b: RuleBody, block: bool) -> Result<Rule, ApiError> {
    let publisher = |p: &str| st.node.resolve_publisher(p).map_err(ApiError::from);
    let rule = match (b.publisher, b.tag, b.lang, b.vouched_by, b.group) {
        (Some(p), None, None, None, None) if block => Rule::Block(publisher(&p)?),
        (..) if block => return Err(bad("give the publisher to block, and nothing else")),
        (Some(p), None, None, None, None) => Rule::Publisher(publisher(&p)?),
        (None, Some(t), None, None, None) => Rule::Tag(t),
        (None, None, Some(l), None, None) => Rule::Lang(l),
        (None, None, None, Some(p), None) => Rule::VouchedBy(publisher(&p)?),
        (None, None, None, None, Some(g)) => Rule::Group(g),
        _ => {
            return Err(bad(
                "give exactly one of publisher, tag, lang, vouched_by or group",
            ))
        }
    };
    rule.normalized().map_err(bad)
}

pub(crate) async fn change_rule(
    st: &ApiState,
    rule: Rule,
    add: bool,
) -> ApiResult<RuleChangeResponse> {
    let policy = st.node.rules.clone();
    let r2 = rule.clone();
    let changed = tokio::task::spawn_blocking({
        let store = st.node.store.clone();
        move || policy.change(store.as_ref(), &r2, add)
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))??;
    Ok(Json(RuleChangeResponse {
        changed,
        rule,
        rules: described(st),
    }))
}

pub(crate) async fn follow(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<RuleChangeResponse> {
    let rule = rule_of(&st, parse_body(&headers, &body)?, false)?;
    change_rule(&st, rule, true).await
}

pub(crate) async fn unfollow(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<RuleChangeResponse> {
    let rule = rule_of(&st, parse_body(&headers, &body)?, false)?;
    change_rule(&st, rule, false).await
}

pub(crate) async fn block(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<RuleChangeResponse> {
    let rule = rule_of(&st, parse_body(&headers, &body)?, true)?;
    change_rule(&st, rule, true).await
}

pub(crate) async fn unblock(
    State(st): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<RuleChangeResponse> {
    let rule = rule_of(&st, parse_body(&headers, &body)?, true)?;
    change_rule(&st, rule, false).await
}
