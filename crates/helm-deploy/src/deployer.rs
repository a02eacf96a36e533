//! The deploy itself, sans-IO: a state machine the edge pumps.
//!
//! [`Deployer::poll_intent`] says what to do next — run helm with these arguments, read a
//! release's history, follow these workloads, write this routing, ask Prometheus this query,
//! probe this URL, remove this object, wait until this time — and the edge answers each with
//! what it observed through one `handle_*` call (`handle_history`, `handle_observed`,
//! `handle_helm`, `handle_timer`, `handle_cancel`…), passing the time. When the intent is
//! [`Intent::Finish`], [`Deployer::finished`] gives the result.
//!
//! Two things run at once: helm, started by [`Intent::Helm`], and a follow of workloads and
//! pods, started by [`Intent::Follow`]. Their news (helm's exit, a changed object) is given to
//! the machine only when it waits ([`Intent::Wait`]); a cancel may come at any time.
//!
//! The machine never reads a clock, a file or the network. Its logic is written as one
//! sequential procedure (`run`) that suspends at each intent; [`Deployer`] resumes it with the
//! answer. Tests drive it over an in-memory cluster with a manual clock.

mod run;
mod snapshot;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use gantry_canary_verify::judge::{self, Judge};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;

use crate::applied::Workload;
use crate::options::Options;
use crate::plan::{Routing, Track, Traffic};
use crate::release::Release;
use crate::report::Outcome;
use crate::routing::Route;

pub use snapshot::Snapshot;

/// Unix time in milliseconds, as the edge's clock gives it.
pub type Millis = u64;

/// What the cluster said when it did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterError {
    /// The message, naming what was asked.
    pub message: String,
    /// The API server could not be reached (or kept failing): the deploy stops (exit 3).
    pub unreachable: bool,
    /// The object is not there (HTTP 404).
    pub not_found: bool,
}

impl ClusterError {
    /// A refusal (not unreachable, not 404).
    #[must_use]
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            unreachable: false,
            not_found: false,
        }
    }
}

/// How a helm run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelmExit {
    /// Exit 0.
    Success,
    /// A non-zero exit, with all helm wrote to standard error.
    Failed(String),
    /// helm could not be started.
    CannotRun(String),
}

/// What a track's workloads and pods are found by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The workloads its Helm release's manifest applies, by kind and name, and their pods by
    /// their own selectors (stable, canary and green are Helm releases).
    Applied(Vec<Workload>),
    /// A label: the baseline, which Gantry copies from the stable and labels itself.
    Labelled(String),
}

/// An object kind the deploy reads, writes or removes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `apps/v1` Deployment.
    Deployment,
    /// `v1` Service.
    Service,
    /// The routing object kind of a traffic (the route Gantry made).
    Route(Traffic),
}

/// An object the deploy writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// A Deployment (the baseline's copy).
    Deployment(Box<Deployment>),
    /// A Service (the baseline's copy).
    Service(Box<Service>),
    /// A routing object (the one Gantry makes when no route steers the Service), as JSON.
    Route(Traffic, Box<serde_json::Value>),
}

/// An object read, as the cluster has it.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// A Deployment, or none by that name.
    Deployment(Option<Box<Deployment>>),
    /// A Service, or none by that name.
    Service(Option<Box<Service>>),
}

/// One HTTP probe of a health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The URL as configured (for the edge's direct probe).
    pub url: String,
    /// The API server's service-proxy path, when the check goes through a Service.
    pub through: Option<String>,
    /// How long to wait for the answer.
    pub timeout_ms: u64,
}

/// What the machine asks the edge to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Start `helm` with these arguments, in its own process group; its exit is given to a
    /// later wait ([`Deployer::handle_helm`]).
    Helm(Vec<String>),
    /// Stop the running helm with SIGTERM: Helm marks the release failed and exits (its exit
    /// is still given, to a wait). Never SIGKILL: a killed helm leaves its release pending.
    StopHelm,
    /// Read a release's history → [`Deployer::handle_history`].
    History(String),
    /// Follow these workloads and their pods (list, then watch) → [`Deployer::handle_observed`]
    /// with the first snapshot, and again at a wait whenever one changes. Replaces any follow.
    Follow(Scope),
    /// Stop following.
    Unfollow,
    /// Read an object → [`Deployer::handle_object`].
    Get(Kind, String),
    /// Create or replace an object → [`Deployer::handle_done`].
    Put(Object),
    /// Delete an object (none there is done) → [`Deployer::handle_done`].
    Delete(Kind, String),
    /// Delete a StatefulSet's pod that the set waits on forever, for its controller to make it
    /// again at the set's revision (none there is done) → [`Deployer::handle_done`].
    ReplacePod(String),
    /// Read the routing object → [`Deployer::handle_route`].
    ReadRoute(Route),
    /// Every routing object of this kind in the namespace → [`Deployer::handle_routes`].
    ListRoutes(Traffic),
    /// Run `helm` with these arguments (`helm template`) to its end, and give what it wrote
    /// to standard output → [`Deployer::handle_rendered`].
    Render(Vec<String>),
    /// Write this routing into the routing object (read, change, replace; a conflict reads
    /// again) → [`Deployer::handle_done`].
    WriteRoute {
        /// The routing object and its rules.
        route: Route,
        /// The tracks the routing names.
        tracks: &'static [Track],
        /// What to write.
        routing: Routing,
    },
    /// How many ready endpoints the Service's `EndpointSlices` list (an endpoint whose `ready`
    /// is unset counts, as the API says; a terminating one does not) → [`Deployer::handle_count`].
    Endpoints(String),
    /// How many pods this label selector selects that are Ready and not being deleted →
    /// [`Deployer::handle_count`].
    ReadyPods(String),
    /// Ask Prometheus a range query → [`Deployer::handle_answer`].
    Query(judge::Query),
    /// Probe a health check's URL → [`Deployer::handle_probe`].
    Probe(Probe),
    /// A pod's events → [`Deployer::handle_lines`].
    Events(String),
    /// A container's last log lines → [`Deployer::handle_lines`].
    Logs {
        /// The pod.
        pod: String,
        /// The container, if the failure named one.
        container: Option<String>,
        /// The previous (crashed) container's log.
        previous: bool,
        /// How many lines from the end.
        lines: u32,
    },
    /// Create the GitHub deployment, in progress, with this description →
    /// [`Deployer::handle_github`].
    StartDeployment(String),
    /// Tell the GitHub deployment where the deploy stands (`in_progress`); a failure is the
    /// edge's warning, never an answer.
    Progress(String),
    /// Nothing to start: wait until this time for helm's exit, a followed object's change or a
    /// cancel, whichever comes first → [`Deployer::handle_timer`] (the time came),
    /// [`Deployer::handle_helm`], [`Deployer::handle_observed`] or [`Deployer::handle_cancel`].
    Wait(Millis),
    /// The deploy is over: [`Deployer::finished`].
    Finish,
}

impl Intent {
    /// An intent the edge carries out without answering.
    #[must_use]
    pub const fn unanswered(&self) -> bool {
        matches!(
            self,
            Self::Helm(_) | Self::StopHelm | Self::Unfollow | Self::Progress(_)
        )
    }
}

/// An answer to an intent, or news given at a wait.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// An unanswered intent was carried out.
    Ack,
    /// helm exited.
    Helm(HelmExit),
    /// A release's history, newest first.
    History(Result<Vec<Release>, ClusterError>),
    /// The followed workloads and pods, as they are now.
    Observed(Result<Box<Snapshot>, ClusterError>),
    /// An object read.
    Object(Result<Fetched, ClusterError>),
    /// A write or a removal done.
    Done(Result<(), ClusterError>),
    /// The routing object, as JSON.
    Route(Result<serde_json::Value, ClusterError>),
    /// Every routing object of a kind, as JSON.
    Routes(Result<Vec<serde_json::Value>, ClusterError>),
    /// What `helm template` wrote to standard output, or all it said when it failed.
    Rendered(Result<String, String>),
    /// A count of ready endpoints or pods.
    Count(Result<u32, ClusterError>),
    /// Prometheus's answer to a query.
    Answer(Result<judge::Answer, String>),
    /// A probe's status and how long it took (ms), or why it had no answer.
    Probe(Result<(u16, u64), String>),
    /// Lines of events or logs.
    Lines(Result<Vec<String>, ClusterError>),
    /// The GitHub deployment was created (its progress can be told), or why not.
    GitHub(Result<(), String>),
    /// The time waited for came.
    Timer,
    /// The job was cancelled.
    Cancelled,
}

/// How a deploy ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Finished {
    /// Refused before anything was changed: a bad input or a release in a state the deploy
    /// does not take (exit 2).
    Refused(String),
    /// The cluster could not be reached before anything was changed (exit 3).
    Unreachable(String),
    /// GitHub would not create the deployment; nothing was changed (exit 3).
    GitHub(String),
    /// The deploy ran, whole or until it stopped, and was undone if it stopped.
    Ran {
        /// What happened.
        outcome: Box<Outcome>,
        /// It stopped because the cluster could not be reached: the message.
        unreachable: Option<String>,
    },
}

/// What a deploy is given.
pub struct Config {
    /// The action's inputs.
    pub options: Options,
    /// The canary judge, when the deploy analyses.
    pub judge: Option<Judge>,
    /// Values to mask wherever output shows them.
    pub secrets: Vec<String>,
    /// A GitHub deployment is to be made and told of progress.
    pub deployment: bool,
    /// What `helm version --short` printed (`v4.0.1+g…`): Helm 4 applies server-side.
    pub helm_version: String,
}

/// What the procedure and the machine share: the intent asked, its answer, the time.
#[derive(Debug, Default)]
struct Exchange {
    asked: Option<Intent>,
    answer: Option<Answer>,
    now: Millis,
    cancelled: bool,
    finished: Option<Finished>,
}

/// The procedure's side of the exchange.
#[derive(Clone)]
struct Io(Rc<RefCell<Exchange>>);

impl Io {
    fn now(&self) -> Millis {
        self.0.borrow().now
    }

    fn cancelled(&self) -> bool {
        self.0.borrow().cancelled
    }

    /// Asks the edge and waits for its answer.
    async fn ask(&self, intent: Intent) -> Answer {
        {
            let mut exchange = self.0.borrow_mut();
            exchange.asked = Some(intent);
            exchange.answer = None;
        }
        Asked(self.clone()).await
    }
}

struct Asked(Io);

impl Future for Asked {
    type Output = Answer;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Answer> {
        match self.0.0.borrow_mut().answer.take() {
            Some(answer) => Poll::Ready(answer),
            None => Poll::Pending,
        }
    }
}

/// One deploy, driven by the edge: [`Deployer::poll_intent`], then the `handle_*` that answers
/// it, until [`Intent::Finish`].
pub struct Deployer {
    exchange: Rc<RefCell<Exchange>>,
    procedure: Option<Pin<Box<dyn Future<Output = Finished>>>>,
    /// The intent given to the edge and not yet answered.
    waiting: Option<Intent>,
}

impl std::fmt::Debug for Deployer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployer")
            .field("waiting", &self.waiting)
            .finish_non_exhaustive()
    }
}

impl Deployer {
    /// A deploy that starts at `now`.
    #[must_use]
    pub fn new(config: Config, now: Millis) -> Self {
        let exchange = Rc::new(RefCell::new(Exchange {
            now,
            ..Exchange::default()
        }));
        let io = Io(exchange.clone());
        let procedure: Pin<Box<dyn Future<Output = Finished>>> =
            Box::pin(async move { Box::pin(run::Run::new(config, io).deploy()).await });
        Self {
            exchange,
            procedure: Some(procedure),
            waiting: None,
        }
    }

    /// The next thing to do. An intent that needs an answer is given once: until it is
    /// answered, this gives [`Intent::Wait`] for it again.
    ///
    /// # Panics
    /// Never, when the edge answers each intent with the `handle_*` its documentation names.
    pub fn poll_intent(&mut self) -> Intent {
        if let Some(waiting) = &self.waiting {
            if self.exchange.borrow().answer.is_none() {
                return waiting.clone();
            }
            self.waiting = None;
        }
        let Some(procedure) = self.procedure.as_mut() else {
            return Intent::Finish;
        };
        let mut context = Context::from_waker(Waker::noop());
        if let Poll::Ready(finished) = procedure.as_mut().poll(&mut context) {
            self.exchange.borrow_mut().finished = Some(finished);
            self.procedure = None;
            return Intent::Finish;
        }
        let intent = self
            .exchange
            .borrow_mut()
            .asked
            .take()
            .expect("the procedure waits only on an intent it asked");
        if intent.unanswered() {
            self.exchange.borrow_mut().answer = Some(Answer::Ack);
        } else {
            self.waiting = Some(intent.clone());
        }
        intent
    }

    /// The result, once [`Intent::Finish`] was given.
    #[must_use]
    pub fn finished(&mut self) -> Option<Finished> {
        self.exchange.borrow_mut().finished.take()
    }

    /// Answers the intent given (or news at a wait) at `now`.
    pub fn handle(&mut self, now: Millis, answer: Answer) {
        let mut exchange = self.exchange.borrow_mut();
        exchange.now = exchange.now.max(now);
        if matches!(answer, Answer::Cancelled) {
            exchange.cancelled = true;
            // A cancel answers only a wait; otherwise the procedure sees it at its next one.
            if !matches!(self.waiting, Some(Intent::Wait(_))) {
                return;
            }
        }
        exchange.answer = Some(answer);
    }

    /// helm exited (given at a wait).
    pub fn handle_helm(&mut self, now: Millis, exit: HelmExit) {
        self.handle(now, Answer::Helm(exit));
    }

    /// A release's history ([`Intent::History`]).
    pub fn handle_history(&mut self, now: Millis, history: Result<Vec<Release>, ClusterError>) {
        self.handle(now, Answer::History(history));
    }

    /// The followed objects as they are now ([`Intent::Follow`], and news at a wait).
    pub fn handle_observed(&mut self, now: Millis, observed: Result<Snapshot, ClusterError>) {
        self.handle(now, Answer::Observed(observed.map(Box::new)));
    }

    /// An object read ([`Intent::Get`]).
    pub fn handle_object(&mut self, now: Millis, object: Result<Fetched, ClusterError>) {
        self.handle(now, Answer::Object(object));
    }

    /// A write or removal done ([`Intent::Put`], [`Intent::Delete`], [`Intent::WriteRoute`]).
    pub fn handle_done(&mut self, now: Millis, done: Result<(), ClusterError>) {
        self.handle(now, Answer::Done(done));
    }

    /// The routing object read ([`Intent::ReadRoute`]).
    pub fn handle_route(&mut self, now: Millis, route: Result<serde_json::Value, ClusterError>) {
        self.handle(now, Answer::Route(route));
    }

    /// The routing objects listed ([`Intent::ListRoutes`]).
    pub fn handle_routes(
        &mut self,
        now: Millis,
        routes: Result<Vec<serde_json::Value>, ClusterError>,
    ) {
        self.handle(now, Answer::Routes(routes));
    }

    /// `helm template`'s standard output, or its standard error when it failed
    /// ([`Intent::Render`]).
    pub fn handle_rendered(&mut self, now: Millis, rendered: Result<String, String>) {
        self.handle(now, Answer::Rendered(rendered));
    }

    /// Ready endpoints or pods counted ([`Intent::Endpoints`], [`Intent::ReadyPods`]).
    pub fn handle_count(&mut self, now: Millis, count: Result<u32, ClusterError>) {
        self.handle(now, Answer::Count(count));
    }

    /// Prometheus's answer ([`Intent::Query`]).
    pub fn handle_answer(&mut self, now: Millis, answer: Result<judge::Answer, String>) {
        self.handle(now, Answer::Answer(answer));
    }

    /// A probe's status and milliseconds ([`Intent::Probe`]).
    pub fn handle_probe(&mut self, now: Millis, probe: Result<(u16, u64), String>) {
        self.handle(now, Answer::Probe(probe));
    }

    /// Events or log lines ([`Intent::Events`], [`Intent::Logs`]).
    pub fn handle_lines(&mut self, now: Millis, lines: Result<Vec<String>, ClusterError>) {
        self.handle(now, Answer::Lines(lines));
    }

    /// The GitHub deployment created, or why not ([`Intent::StartDeployment`]).
    pub fn handle_github(&mut self, now: Millis, created: Result<(), String>) {
        self.handle(now, Answer::GitHub(created));
    }

    /// The time waited for came ([`Intent::Wait`]).
    pub fn handle_timer(&mut self, now: Millis) {
        self.handle(now, Answer::Timer);
    }

    /// The job was cancelled (SIGINT or SIGTERM): the deploy stops at once and is undone.
    pub fn handle_cancel(&mut self, now: Millis) {
        self.handle(now, Answer::Cancelled);
    }
}
