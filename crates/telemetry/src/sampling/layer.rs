//! [`OnlySampled`]: the OpenTelemetry layer, shown only the spans of sampled requests.
//!
//! The request middleware decides before it creates a request's root span. When the request is
//! not sampled it creates the root span inside [`unrecorded`], and this layer marks that span
//! [`NotRecorded`] instead of handing it to `tracing-opentelemetry`; every span opened below it
//! inherits the mark. A marked span never reaches the OpenTelemetry layer: no `SpanBuilder`, no
//! attribute visitor, no context activation on entry, no `SpanData`, nothing queued or exported.
//! Its mark carries the context the request propagates (its trace id, the span id its outgoing
//! calls name as their parent, flags `00`, the incoming baggage), so log lines and outgoing
//! `traceparent` headers still say which trace the request belongs to.
//!
//! Why a wrapping layer rather than a per-layer filter (`Layer::with_filter`): a filter decides
//! from a span's metadata alone, and the context it is given hides the spans it disabled, so it
//! cannot see that an explicitly parented span belongs to an unsampled request. The registry's
//! parent links, which this layer reads, cover explicit and contextual parents alike.

use std::any::TypeId;
use std::cell::RefCell;

use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Span extension: this span belongs to a request that is not sampled, and `context` is what
/// that request propagates (a valid, unsampled span context and the incoming baggage).
#[derive(Debug, Clone)]
pub(crate) struct NotRecorded {
    pub(crate) context: Context,
}

thread_local! {
    /// Set by [`unrecorded`] for the one span it creates.
    static NEXT_ROOT: RefCell<Option<NotRecorded>> = const { RefCell::new(None) };
}

/// Runs `create` (which opens one span, the root of an unsampled request) so that the span it
/// opens is marked [`NotRecorded`] with `context`. Outside [`OnlySampled`] (no OpenTelemetry
/// layer) the mark is simply not taken.
pub(crate) fn unrecorded<R>(context: Context, create: impl FnOnce() -> R) -> R {
    NEXT_ROOT.with(|next| *next.borrow_mut() = Some(NotRecorded { context }));
    let created = create();
    // Not taken if the span was disabled (by RUST_LOG, say): never leave it for another span.
    NEXT_ROOT.with(|next| next.borrow_mut().take());
    created
}

/// The context an unrecorded span propagates; `None` for a span of a sampled request, a span
/// the registry does not know, or without the registry.
pub(crate) fn not_recorded_context(span: &tracing::Span) -> Option<Context> {
    span.with_subscriber(|(id, dispatch)| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let span = registry.span(id)?;
        let extensions = span.extensions();
        extensions.get::<NotRecorded>().map(|n| n.context.clone())
    })
    .flatten()
}

/// Wraps the OpenTelemetry layer: spans marked [`NotRecorded`] (an unsampled request's root and
/// everything below it) are never created in it, so it keeps no data for them; every other span
/// reaches it unchanged.
pub(crate) struct OnlySampled<L> {
    inner: L,
}

impl<L> OnlySampled<L> {
    pub(crate) fn new(inner: L) -> Self {
        Self { inner }
    }
}

fn recorded<S>(id: &Id, ctx: &LayerContext<'_, S>) -> bool
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    ctx.span(id)
        .is_none_or(|span| span.extensions().get::<NotRecorded>().is_none())
}

impl<S, L> Layer<S> for OnlySampled<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(
        &self,
        metadata: &'static Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: LayerContext<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mark = NEXT_ROOT.with(|next| next.borrow_mut().take()).or_else(|| {
            let parent = span.parent()?;
            let extensions = parent.extensions();
            extensions.get::<NotRecorded>().cloned()
        });
        match mark {
            Some(mark) => span.extensions_mut().insert(mark),
            None => {
                drop(span);
                self.inner.on_new_span(attrs, id, ctx);
            }
        }
    }

    // Checked: the OpenTelemetry layer formats the values before it looks for its data.
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        if recorded(id, &ctx) {
            self.inner.on_record(id, values, ctx);
        }
    }

    // Forwarded unchecked, like `on_enter`, `on_exit` and `on_close` below: for a span it never
    // saw, the OpenTelemetry layer finds no data of its own in the span's extensions and stops
    // there, a lookup this layer would otherwise make first for every span, sampled or not.
    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: LayerContext<'_, S>) {
        self.inner.on_follows_from(id, follows, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    // Checked, for the same reason as `on_record`: the event is built before the data is looked
    // up.
    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        let in_unrecorded = match event.parent() {
            Some(parent) => !recorded(parent, &ctx),
            None if event.is_contextual() => ctx
                .lookup_current()
                .is_some_and(|span| span.extensions().get::<NotRecorded>().is_some()),
            None => false,
        };
        if !in_unrecorded {
            self.inner.on_event(event, ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: LayerContext<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: LayerContext<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        self.inner.on_close(id, ctx);
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: LayerContext<'_, S>) {
        self.inner.on_id_change(old, new, ctx);
    }

    // SAFETY: forwards to the wrapped layer, whose pointers stay valid as long as `self` is;
    // `tracing-opentelemetry` finds its own layer and its `WithContext` hooks through this.
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else {
            self.inner.downcast_raw(id)
        }
    }
}

/// The ids a log line inside `span` carries when the span has no OpenTelemetry data: those its
/// unsampled request propagates.
pub(crate) fn not_recorded_ids(
    extensions: &tracing_subscriber::registry::Extensions<'_>,
) -> Option<opentelemetry::trace::SpanContext> {
    extensions
        .get::<NotRecorded>()
        .map(|n| n.context.span().span_context().clone())
}
