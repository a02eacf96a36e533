//! The comment and the step summary: verdict and totals first, then warnings, then per stack a
//! table and a folded block per resource; everything cut to a byte budget by [`Document`].

use gantry_core::runner::STEP_SUMMARY_LIMIT;
use std::fmt::Write as _;

use gantry_core::markdown::{
    self, Align, Document, Table, code, code_block, details, html_text, text,
};

use crate::analysis::{Counts, Warning, WarningKind, reason_in_words, replace_paths};
use crate::diff::{DiffLine, Sides, diff};
use crate::plan::{Action, Change, Plan, ResourceChange};
use crate::secrets::Secrets;
use crate::value::Node;

/// One stack, read and analysed.
#[derive(Debug)]
pub(crate) struct StackView<'p, 'a> {
    /// Stack name.
    pub name: String,
    /// The plan file as the user named it.
    pub file: String,
    /// The plan.
    pub plan: &'p Plan<'a>,
    /// Terraform's counts.
    pub counts: Counts,
    /// Destroys, replaces, forgets.
    pub warnings: Vec<Warning>,
    /// Notes about reading the file (UTF-16, wrapper output).
    pub notes: Vec<String>,
}

/// The gate's decision, for the first lines.
#[derive(Debug, Clone, Default)]
pub(crate) struct Decision {
    /// Whether the gate failed.
    pub failed: bool,
    /// Why, one line each.
    pub reasons: Vec<String>,
}

/// What to render and how much of it.
#[derive(Debug)]
pub(crate) struct RenderRequest<'r, 'p, 'a> {
    /// The stacks.
    pub stacks: &'r [StackView<'p, 'a>],
    /// Sums over stacks.
    pub totals: Counts,
    /// The gate.
    pub decision: &'r Decision,
    /// The plan digest.
    pub digest: &'r str,
    /// Scrubbed from everything.
    pub secrets: &'r Secrets,
    /// Bytes available.
    pub budget: usize,
    /// Where the full text is, for the cut note.
    pub full_text_at: &'r str,
    /// Most warnings listed.
    pub warnings_listed: usize,
}

/// Room kept in the summary after the resource blocks, for the sections that always follow them
/// (outputs, drift, data reads, checks) and the note on what was not rendered.
const SUMMARY_RESERVE: usize = 64 * 1024;

/// One rendered section block: its bytes in the shared buffer, its label (`None`: essential),
/// its folded form.
#[derive(Debug)]
pub(crate) struct SectionBlock {
    range: std::ops::Range<usize>,
    label: Option<String>,
    folded: Option<String>,
}

/// Where the per-stack sections are rendered: straight after the summary's first blocks, so
/// the buffer is the step summary and the comment is cut from the same text (one copy).
struct Sections<'s> {
    buffer: &'s mut String,
    secrets: &'s Secrets,
    blocks: Vec<SectionBlock>,
    /// Resource blocks stop once the buffer is this long (tables and other sections do not).
    limit: usize,
}

impl Sections<'_> {
    fn push(&mut self, label: Option<String>, markdown: &str, folded: Option<String>) {
        let start = self.buffer.len();
        let scrubbed = self.secrets.scrub(markdown);
        self.buffer.push_str(&scrubbed);
        self.buffer.push_str(markdown::block_ending(&scrubbed));
        self.blocks.push(SectionBlock {
            range: start..self.buffer.len(),
            label,
            folded: folded.map(|folded| self.secrets.scrub(&folded).into_owned()),
        });
    }

    fn essential(&mut self, markdown: &str) {
        self.push(None, markdown, None);
    }

    fn detail(&mut self, label: String, markdown: &str, folded: Option<String>) {
        self.push(Some(label), markdown, folded);
    }

    fn full(&self) -> bool {
        self.buffer.len() > self.limit
    }
}

/// Renders the per-stack sections (tables and resource blocks) once, appended to `buffer`
/// (which holds the summary's first blocks); resource blocks stop where the 1 MiB summary could
/// hold no more, and a note counts them.
pub(crate) fn stack_sections(
    stacks: &[StackView<'_, '_>],
    secrets: &Secrets,
    buffer: &mut String,
) -> Vec<SectionBlock> {
    let mut sections = Sections {
        buffer,
        secrets,
        blocks: Vec::new(),
        limit: STEP_SUMMARY_LIMIT.saturating_sub(SUMMARY_RESERVE),
    };
    let mut skipped = 0usize;
    for stack in stacks {
        render_stack(stack, &mut sections, &mut skipped);
    }
    if skipped > 0 {
        sections.essential(&format!(
            "_{skipped} resource block(s) were not rendered: the plan is larger than any comment or summary can hold._"
        ));
    }
    sections.blocks
}

/// The section blocks as a document over the shared buffer.
pub(crate) fn sections_document(
    buffer: &std::sync::Arc<String>,
    blocks: Vec<SectionBlock>,
) -> Document {
    let mut document = Document::new();
    for block in blocks {
        document.shared(buffer, block.range, block.label, block.folded);
    }
    document
}

/// The blocks that come first and are never cut: verdict, reasons, totals, warnings, notes,
/// digest.
pub(crate) fn essentials(request: &RenderRequest<'_, '_, '_>) -> Document {
    let mut document = Document::new();
    document.essential(headline(request));
    if !request.decision.reasons.is_empty() {
        let mut block = String::new();
        for reason in &request.decision.reasons {
            let _ = writeln!(block, "- {}", text(reason));
        }
        document.essential(block);
    }
    document.essential(totals_table(request));
    if let Some(block) = warnings_block(request) {
        document.essential(block);
    }
    let notes: Vec<String> = request
        .stacks
        .iter()
        .flat_map(|stack| {
            stack
                .notes
                .iter()
                .map(move |note| format!("{}: {note}", stack.file))
        })
        .collect();
    if !notes.is_empty() {
        let mut block = String::from("> [!NOTE]\n");
        for note in notes {
            let _ = writeln!(block, "> {}", text(&note));
        }
        document.essential(block);
    }
    document.essential(format!(
        "<sub>Plan digest {} — pass it as `expect-digest` to apply exactly this plan.</sub>",
        code(request.digest)
    ));
    document
}

/// Renders the essentials and the sections within the budget.
pub(crate) fn render(request: &RenderRequest<'_, '_, '_>, sections: &Document) -> String {
    let mut document = essentials(request);
    document.append(sections);
    let (rendered, _) = document.render_within(request.budget, request.full_text_at);
    let scrubbed = match request.secrets.scrub(&rendered) {
        std::borrow::Cow::Owned(scrubbed) => scrubbed,
        std::borrow::Cow::Borrowed(_) => rendered,
    };
    if scrubbed.len() <= request.budget {
        scrubbed
    } else {
        // Scrubbing only grows text when a secret is shorter than "(sensitive)"; cut again.
        let mut cut = scrubbed;
        let mut end = request.budget;
        while !cut.is_char_boundary(end) {
            end -= 1;
        }
        let end = cut[..end].rfind('\n').unwrap_or(end);
        cut.truncate(end);
        cut
    }
}

fn headline(request: &RenderRequest<'_, '_, '_>) -> String {
    let verdict = if request.decision.failed {
        "**Failed**"
    } else {
        "Passed"
    };
    let stacks = request.stacks.len();
    let scope = if stacks == 1 {
        format!("stack {}", code(&request.stacks[0].name))
    } else {
        format!("{stacks} stacks")
    };
    let totals = &request.totals;
    let summary = if totals.has_resource_changes() {
        totals.plan_line()
    } else if totals.outputs > 0 {
        format!("No resource changes; {} output(s) change.", totals.outputs)
    } else {
        "No changes.".to_owned()
    };
    let mut extra = Vec::new();
    if totals.replace > 0 {
        extra.push(format!("{} replaced", totals.replace));
    }
    if totals.moved > 0 {
        extra.push(format!("{} moved", totals.moved));
    }
    if totals.drift > 0 {
        extra.push(format!("{} changed outside Terraform", totals.drift));
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(" ({})", extra.join(", "))
    };
    format!("### Terraform plan · {scope} · {verdict}\n\n**{summary}**{extra}")
}

fn totals_table(request: &RenderRequest<'_, '_, '_>) -> String {
    let mut table = Table::new(&[
        ("stack", Align::Left),
        ("add", Align::Right),
        ("change", Align::Right),
        ("destroy", Align::Right),
        ("replace", Align::Right),
        ("import", Align::Right),
        ("move", Align::Right),
        ("forget", Align::Right),
        ("drift", Align::Right),
    ]);
    let row = |name: String, counts: &Counts, table: &mut Table| {
        if counts.has_changes() || counts.drift > 0 {
            table.row([
                name,
                counts.add.to_string(),
                counts.change.to_string(),
                counts.destroy.to_string(),
                counts.replace.to_string(),
                counts.import.to_string(),
                counts.moved.to_string(),
                counts.forget.to_string(),
                counts.drift.to_string(),
            ]);
        } else {
            table.row([name, "No changes".to_owned()]);
        }
    };
    for stack in request.stacks {
        row(code(&stack.name), &stack.counts, &mut table);
    }
    if request.stacks.len() > 1 {
        row("**total**".to_owned(), &request.totals, &mut table);
    }
    table.render()
}

fn warnings_block(request: &RenderRequest<'_, '_, '_>) -> Option<String> {
    let all: Vec<(&str, &Warning)> = request
        .stacks
        .iter()
        .flat_map(|stack| {
            stack
                .warnings
                .iter()
                .map(move |warning| (stack.name.as_str(), warning))
        })
        .collect();
    if all.is_empty() {
        return None;
    }
    let count = |kind: WarningKind| {
        all.iter()
            .filter(|(_, warning)| warning.kind == kind)
            .count()
    };
    let mut parts = Vec::new();
    for (kind, verb) in [
        (WarningKind::Destroy, "destroyed"),
        (WarningKind::Replace, "replaced"),
        (
            WarningKind::Forget,
            "forgotten (left running, removed from state)",
        ),
        (
            WarningKind::Unknown,
            "changed by an action Gantry does not know",
        ),
    ] {
        let n = count(kind);
        if n > 0 {
            parts.push(format!("{n} {verb}"));
        }
    }
    let mut block = format!("> [!WARNING]\n> **{}**\n", parts.join(", "));
    let multi = request.stacks.len() > 1;
    let mut sorted = all.clone();
    sorted.sort_by_key(|(_, warning)| (warning.allowed, warning.kind));
    for (stack, warning) in sorted.iter().take(request.warnings_listed) {
        let prefix = if multi {
            format!("{} · ", code(stack))
        } else {
            String::new()
        };
        let mut line = format!(
            "> - {prefix}**{}** {}",
            warning.kind.word(),
            code(&warning.address)
        );
        if let Some(reason) = &warning.reason {
            let _ = write!(line, " — {}", gantry_core::markdown::prose(reason));
        }
        if !warning.forced_by.is_empty() {
            let forced: Vec<String> = warning.forced_by.iter().map(|path| code(path)).collect();
            let _ = write!(line, " (forced by {})", forced.join(", "));
        }
        if warning.allowed {
            line.push_str(" — allowed by `destroy-allowlist`");
        }
        block.push_str(&line);
        block.push('\n');
    }
    if sorted.len() > request.warnings_listed {
        let _ = writeln!(
            block,
            "> - … and {} more",
            sorted.len() - request.warnings_listed
        );
    }
    Some(block)
}

fn render_stack(stack: &StackView<'_, '_>, document: &mut Sections<'_>, skipped: &mut usize) {
    let secrets = document.secrets;
    let plan = stack.plan;
    let heading = if stack.counts.has_resource_changes() {
        stack.counts.plan_line()
    } else if stack.counts.outputs > 0 {
        "No resource changes; outputs change.".to_owned()
    } else {
        "No changes.".to_owned()
    };
    let mut header = format!("#### {} — {heading}", code(&stack.name));
    if plan.errored == Some(true) {
        header.push_str("\n\n> [!CAUTION]\n> Terraform reported errors while planning; this plan is incomplete.");
    } else if plan.complete == Some(false) {
        header.push_str("\n\n> [!NOTE]\n> Terraform marked this plan incomplete (deferred changes or `-target`): another plan and apply will be needed.");
    }
    if plan.is_redacted_format() {
        header.push_str("\n\n<sub>Read from HCP Terraform's redacted plan format.</sub>");
    }
    document.essential(&header);
    if let Some(moves) = moves_block(plan) {
        document.essential(&moves);
    }

    let shown: Vec<&ResourceChange<'_>> = plan
        .resource_changes
        .iter()
        .filter(|change| {
            let action = change.action();
            !(action == Action::Delete && change.is_data())
                && (action != Action::NoOp
                    || change.change.importing.is_some()
                    || change.moved_from().is_some())
                && action != Action::Read
        })
        .collect();

    if !shown.is_empty() {
        for (chunk_index, chunk) in shown.chunks(100).enumerate() {
            let mut table = Table::new(&[
                ("", Align::Center),
                ("resource", Align::Left),
                ("action", Align::Left),
                ("why", Align::Left),
            ]);
            for change in chunk {
                let action = change.action();
                let mut why = reason_in_words(change).unwrap_or_default();
                if let Some(from) = change.moved_from() {
                    if !why.is_empty() {
                        why.push_str("; ");
                    }
                    let _ = write!(why, "moved from `{from}`");
                }
                if change.change.importing.is_some() {
                    if !why.is_empty() {
                        why.push_str("; ");
                    }
                    why.push_str("imported");
                }
                let word = match (
                    &action,
                    change.moved_from().is_some(),
                    change.change.importing.is_some(),
                ) {
                    (Action::NoOp, _, true) => "import".to_owned(),
                    (Action::NoOp, true, false) => "move".to_owned(),
                    (other, _, true) => format!("import, {}", other.word()),
                    (other, _, false) => other.word().into_owned(),
                };
                let symbol = action.symbol();
                table.row([
                    if symbol.trim().is_empty() {
                        String::new()
                    } else {
                        code(symbol)
                    },
                    code(&change.display_address()),
                    text(&word),
                    gantry_core::markdown::prose(&secrets.scrub(&why)),
                ]);
            }
            let label = if chunk_index == 0 {
                format!("{} resource table", stack.name)
            } else {
                format!("{} resource table, part {}", stack.name, chunk_index + 1)
            };
            document.detail(label, &table.render(), None);
        }
        for change in &shown {
            if document.full() {
                *skipped += 1;
                continue;
            }
            let (block, folded) = resource_block(change, secrets, false);
            document.detail(change.display_address(), &block, Some(folded));
        }
    }

    if let Some(outputs) = outputs_section(plan, secrets) {
        document.detail(format!("{} output changes", stack.name), &outputs, None);
    }
    let drift: Vec<&ResourceChange<'_>> = plan
        .resource_drift
        .iter()
        .filter(|drift| drift.action() != Action::NoOp)
        .collect();
    if !drift.is_empty() {
        let mut block = format!(
            "**Changed outside Terraform** ({}): Terraform saw these differences while refreshing.\n\n",
            drift.len()
        );
        for change in drift {
            let (inner, _) = resource_block(change, secrets, true);
            block.push_str(&inner);
        }
        document.detail(format!("{} drift", stack.name), &block, None);
    }
    let reads: Vec<&ResourceChange<'_>> = plan
        .resource_changes
        .iter()
        .filter(|change| change.action() == Action::Read)
        .collect();
    if !reads.is_empty() {
        let mut block = format!("**Data sources read during apply** ({}):\n\n", reads.len());
        for change in reads {
            let reason = reason_in_words(change)
                .map(|reason| format!(" — {}", gantry_core::markdown::prose(&reason)))
                .unwrap_or_default();
            let _ = writeln!(block, "- {}{reason}", code(&change.address));
        }
        document.detail(format!("{} data reads", stack.name), &block, None);
    }
    if let Some(checks) = checks_section(plan, secrets) {
        document.detail(format!("{} checks", stack.name), &checks, None);
    }
    if !plan.deferred_changes.is_empty() {
        let mut block = format!(
            "**Deferred to a later plan** ({}):\n\n",
            plan.deferred_changes.len()
        );
        for deferred in &plan.deferred_changes {
            let reason = deferred
                .reason
                .as_deref()
                .unwrap_or("deferred")
                .replace('_', " ");
            let _ = writeln!(
                block,
                "- {} — {}",
                code(&deferred.resource_change.address),
                text(&reason)
            );
        }
        document.detail(format!("{} deferred", stack.name), &block, None);
    }
    if !plan.action_invocations.is_empty() {
        let mut block = String::from("**Actions invoked on apply:**\n\n");
        for invocation in &plan.action_invocations {
            let _ = writeln!(block, "- {}", code(&invocation.address));
        }
        document.detail(format!("{} actions", stack.name), &block, None);
    }
}

/// The folded block of one change, and its one-line folded form.
fn resource_block(change: &ResourceChange<'_>, secrets: &Secrets, drift: bool) -> (String, String) {
    let action = change.action();
    let address = change.display_address();
    let summary = format!(
        "{} {} — {}",
        action.symbol(),
        address,
        if drift {
            drift_word(&action)
        } else {
            action.word().into_owned()
        }
    );
    let mut body = String::new();
    let mut summary = html_text(&secrets.scrub(&summary));
    if let Some(reason) = reason_in_words(change).filter(|_| !drift) {
        let _ = write!(
            summary,
            " ({})",
            gantry_core::markdown::html_prose(&secrets.scrub(&reason))
        );
    }
    if let Some(from) = change.moved_from() {
        let _ = writeln!(body, "Moved from {}.\n", code(from));
    }
    if let Some(importing) = &change.change.importing {
        let id = importing.id.as_deref().map_or_else(
            || "(known after apply)".to_owned(),
            |id| secrets.scrub(id).into_owned(),
        );
        let _ = writeln!(body, "Imported with id {}.\n", code(&id));
    }
    let (lines, total) = attribute_lines(&change.change, secrets);
    if !lines.is_empty() {
        let mut rendered = String::with_capacity(lines.len() * 48);
        for (index, line) in lines.iter().enumerate() {
            if index > 0 {
                rendered.push('\n');
            }
            rendered.push_str(&line.render());
        }
        body.push_str(&code_block("diff", &rendered));
        if total > lines.len() {
            let _ = writeln!(
                body,
                "\n… and {} more attribute change(s).",
                total - lines.len()
            );
        }
    } else if action == Action::NoOp || action == Action::Forget {
        body.push_str("No attribute changes.\n");
    }
    if let Some(config) = &change.change.generated_config {
        body.push('\n');
        body.push_str(&details(
            "generated configuration",
            &code_block("hcl", &secrets.scrub(config)),
            false,
        ));
    }
    let folded = match change.moved_from() {
        // A pure move has no details to leave out: where it was is what matters.
        Some(from) if total == 0 => format!(
            "- {} → {} — moved, no attribute changes\n",
            code(from),
            code(&address)
        ),
        _ => format!(
            "- {} {} — {} attribute change(s); details left out\n",
            html_text(action.symbol()),
            code(&address),
            total
        ),
    };
    (
        gantry_core::markdown::details_html(&summary, &body, false),
        folded,
    )
}

/// Moves listed at most, after folding module-instance renames.
const MOVES_LISTED: usize = 50;

/// An address's steps (`module.a["k.1"]`, `aws_instance`, `b[0]`): dots inside keys don't split.
fn address_steps(address: &str) -> Vec<&str> {
    let mut steps = Vec::new();
    let (mut start, mut depth, mut quoted, mut escaped) = (0, 0usize, false, false);
    for (index, byte) in address.bytes().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'[' if !quoted => depth += 1,
            b']' if !quoted => depth = depth.saturating_sub(1),
            b'.' if !quoted && depth == 0 => {
                steps.push(&address[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    steps.push(&address[start..]);
    steps
}

/// The module-instance prefixes of a move whose resource part stays the same
/// (`module.shard["s00"]` → `module.shard["s00-renamed"]`), if it is one.
fn module_rename(from: &str, to: &str) -> Option<(String, String)> {
    let (from_steps, to_steps) = (address_steps(from), address_steps(to));
    let common = from_steps
        .iter()
        .rev()
        .zip(to_steps.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let from_prefix = &from_steps[..from_steps.len() - common];
    let to_prefix = &to_steps[..to_steps.len() - common];
    // What remains must be whole `module.<name>[key]` pairs on both sides.
    let is_modules = |prefix: &[&str]| {
        !prefix.is_empty()
            && prefix.len() % 2 == 0
            && prefix.chunks(2).all(|pair| pair[0] == "module")
    };
    (common >= 2 && is_modules(from_prefix) && is_modules(to_prefix))
        .then(|| (from_prefix.join("."), to_prefix.join(".")))
}

/// Every move as `from → to`, module-instance renames folded into one line with their count;
/// essential (moves are never cut before attribute details are).
fn moves_block(plan: &Plan<'_>) -> Option<String> {
    // (from, to, how many resources a folded rename holds, the first move's own addresses).
    let mut lines: Vec<(String, String, usize, String, String)> = Vec::new();
    let mut renames: std::collections::BTreeMap<(String, String), usize> =
        std::collections::BTreeMap::new();
    let mut total = 0usize;
    for change in &plan.resource_changes {
        let Some(from) = change.moved_from() else {
            continue;
        };
        total += 1;
        match module_rename(from, &change.address) {
            Some(key) => {
                if let Some(&index) = renames.get(&key) {
                    lines[index].2 += 1;
                } else {
                    renames.insert(key.clone(), lines.len());
                    lines.push((key.0, key.1, 1, from.to_owned(), change.address.to_string()));
                }
            }
            None => lines.push((
                from.to_owned(),
                change.address.to_string(),
                0,
                String::new(),
                String::new(),
            )),
        }
    }
    if total == 0 {
        return None;
    }
    let mut block = format!("**Moved** ({total}):\n");
    for (from, to, count, first_from, first_to) in lines.iter().take(MOVES_LISTED) {
        match count {
            0 => {
                let _ = writeln!(block, "- {} → {}", code(from), code(to));
            }
            1 => {
                let _ = writeln!(block, "- {} → {}", code(first_from), code(first_to));
            }
            _ => {
                let _ = writeln!(block, "- {} → {} ({count} resources)", code(from), code(to));
            }
        }
    }
    if lines.len() > MOVES_LISTED {
        let _ = writeln!(block, "- … and {} more", lines.len() - MOVES_LISTED);
    }
    Some(block)
}

fn drift_word(action: &Action) -> String {
    match action {
        Action::Delete => "deleted outside Terraform".to_owned(),
        Action::Update => "changed outside Terraform".to_owned(),
        other => other.word().into_owned(),
    }
}

/// The diff lines of a change; a value that cannot be read shows as one note line.
fn attribute_lines(change: &Change<'_>, secrets: &Secrets) -> (Vec<DiffLine>, usize) {
    let parsed = (|| -> Result<_, serde_json::Error> {
        Ok((
            Node::parse_optional(change.before)?,
            Node::parse_optional(change.after)?,
            Node::parse_optional(change.before_sensitive)?,
            Node::parse_optional(change.after_sensitive)?,
            Node::parse_optional(change.after_unknown)?,
        ))
    })();
    let Ok((before, after, before_sensitive, after_sensitive, after_unknown)) = parsed else {
        return (Vec::new(), 0);
    };
    let sides = Sides {
        before: &before,
        after: &after,
        before_sensitive: &before_sensitive,
        after_sensitive: &after_sensitive,
        after_unknown: &after_unknown,
    };
    diff(&sides, &replace_paths(change), secrets)
}

fn outputs_section(plan: &Plan<'_>, secrets: &Secrets) -> Option<String> {
    let (_, sensitive_outputs) = plan.sensitive_declarations();
    let mut table = Table::new(&[
        ("", Align::Center),
        ("output", Align::Left),
        ("before", Align::Left),
        ("after", Align::Left),
    ]);
    for (name, change) in &plan.output_changes {
        let action = Action::from_actions(&change.actions);
        if action == Action::NoOp {
            continue;
        }
        let declared_sensitive = sensitive_outputs.contains(name);
        let side = |raw: Option<&serde_json::value::RawValue>,
                    mask: Option<&serde_json::value::RawValue>,
                    unknown: bool|
         -> String {
            if unknown {
                return "(known after apply)".to_owned();
            }
            let masked = declared_sensitive || mask.is_some_and(|mask| mask.get().contains("true"));
            match raw.map(Node::parse) {
                None | Some(Ok(Node::Null)) => "—".to_owned(),
                Some(_) if masked => "(sensitive)".to_owned(),
                Some(Ok(value)) => {
                    let compact = value.to_compact();
                    let shown = secrets.scrub(&compact);
                    markdown::shorten(&shown, 120).into_owned()
                }
                Some(Err(_)) => "(unreadable)".to_owned(),
            }
        };
        let unknown = change
            .after_unknown
            .is_some_and(|mask| mask.get().trim() == "true");
        let before = side(change.before, change.before_sensitive, false);
        let after = side(change.after, change.after_sensitive, unknown);
        let cell = |value: String| {
            if value.starts_with('(') || value == "—" {
                text(&value)
            } else {
                code(&value)
            }
        };
        table.row([code(action.symbol()), code(name), cell(before), cell(after)]);
    }
    if table.is_empty() {
        return None;
    }
    Some(format!(
        "**Output changes** ({}):\n\n{}",
        table.len(),
        table.render()
    ))
}

fn checks_section(plan: &Plan<'_>, secrets: &Secrets) -> Option<String> {
    if plan.checks.is_empty() {
        return None;
    }
    let count = |status: &str| {
        plan.checks
            .iter()
            .filter(|check| check.status == status)
            .count()
    };
    let mut block = format!(
        "**Checks**: {} passed, {} failed, {} errored, {} unknown until apply.\n",
        count("pass"),
        count("fail"),
        count("error"),
        count("unknown")
    );
    for check in plan.checks.iter().filter(|check| check.status != "pass") {
        let _ = writeln!(
            block,
            "- **{}** {}",
            text(&check.status),
            code(&check.address.to_display)
        );
        for instance in check
            .instances
            .iter()
            .filter(|instance| instance.status != "pass")
        {
            for problem in &instance.problems {
                let _ = writeln!(
                    block,
                    "  - {}: {}",
                    code(&instance.address.to_display),
                    text(&secrets.scrub(&markdown::shorten(&problem.message, 300)))
                );
            }
        }
    }
    Some(block)
}

#[cfg(test)]
mod tests {
    use super::{address_steps, module_rename};

    #[test]
    fn addresses_split_into_steps_outside_keys() {
        assert_eq!(
            address_steps(r#"module.a["x.y]"].aws_s3_bucket.b[0]"#),
            ["module", r#"a["x.y]"]"#, "aws_s3_bucket", "b[0]"]
        );
    }

    #[test]
    fn only_module_instance_renames_fold() {
        assert_eq!(
            module_rename(
                r#"module.shard["s00"].terraform_data.r[3]"#,
                r#"module.shard["s00-renamed"].terraform_data.r[3]"#
            ),
            Some((
                r#"module.shard["s00"]"#.into(),
                r#"module.shard["s00-renamed"]"#.into()
            ))
        );
        assert_eq!(
            module_rename(
                "module.old.aws_instance.a",
                "module.platform.module.new.aws_instance.a"
            ),
            Some(("module.old".into(), "module.platform.module.new".into()))
        );
        // A resource renamed inside a module, or a count index changed, is no module rename.
        assert_eq!(
            module_rename("module.a.aws_instance.x", "module.a.aws_instance.y"),
            None
        );
        assert_eq!(
            module_rename("aws_instance.x[0]", "aws_instance.x[1]"),
            None
        );
    }
}
