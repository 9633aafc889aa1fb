//! Documentation-only schemas of the problems the API answers with. The bodies it reads and
//! writes are `contract`'s (`ChargeRequestJson`, `ChargeJson`, `DeclineDetails`); every other
//! error is a plain `service_kit::problem::ProblemDoc`.

use contract::DeclineDetails;
use serde::Serialize;
use service_kit::problem::ProblemDoc;

/// A 402 `payment-declined`: the problem plus the declined charge and the reason.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeclineProblemDoc {
    #[serde(flatten)]
    pub problem: ProblemDoc,
    #[serde(flatten)]
    pub details: DeclineDetails,
}
