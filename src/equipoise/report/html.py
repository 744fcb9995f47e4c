"""The offline HTML report: summary matrix, plots, cited detail tables, claims and sources.

Everything is inline (CSS and SVG); the page makes no network requests.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from equipoise import __version__
from equipoise.comparison.cells import Cell, Finding
from equipoise.comparison.claims import ClaimVerdict
from equipoise.comparison.dimensions import BY_ID
from equipoise.comparison.fits import fit_text
from equipoise.comparison.result import DISCLAIMER, Comparison
from equipoise.evidence.records import EvidenceSet
from equipoise.report.svg import (
    Bar,
    BarGroup,
    ForestRow,
    TimelineItem,
    bar_chart,
    forest_plot,
    timeline_plot,
)
from equipoise.report.text import size_text

_CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 1.5rem;
color:#1b1b1b;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:2px solid #ddd}
.disclaimer{background:#fff4e5;border-left:4px solid #e69f00;padding:.6rem .9rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0 1rem}
th,td{border:1px solid #d0d0d0;padding:.35rem .45rem;vertical-align:top;text-align:left}
thead th{background:#f3f3f3;position:sticky;top:0}
td.empty{color:#777;font-style:italic}
.badge{display:inline-block;border-radius:3px;padding:0 .35rem;font-size:.75rem;color:#fff}
.High{background:#009e73}.Moderate{background:#0072b2}.Low{background:#e69f00;color:#000}
.Very.low,.Verylow{background:#d55e00}
.flags{color:#555;font-size:.78rem}.note{color:#8a3b00;font-size:.8rem}
.src{font-size:.75rem;color:#444}.verdict{font-weight:bold}
.supported{color:#007a55}.partly{color:#a15c00}.not-established{color:#b03a00}
.contradicted{color:#b00020}figure{margin:1rem 0}figcaption{font-size:.85rem;color:#444}
.matrix td{min-width:8rem;max-width:12rem}.quote{font-style:italic;color:#333}
.scroll{overflow-x:auto;max-width:100%}.matrix th:first-child{position:sticky;left:0;
background:#fafafa;z-index:1}
nav a{margin-right:.8rem}.fit{color:#0b4f8a}
"""


_WARN = ("evidence from another", "another anxiety", "depression outcome", "paediatric",
         "no control group", "not statistically")


def _e(text: object) -> str:
    return html.escape(str(text))


def _badge(label: str | None) -> str:
    if not label:
        return ""
    return f'<span class="badge {label.replace(" ", "")}">{_e(label)}</span>'


def _refs(cell_or_finding: Cell | Finding) -> str:
    return " ".join(f'<a href="#src-{_e(s.row_id)}">{_e(s.row_id)}</a>'
                    for s in cell_or_finding.sources)


def _matrix(c: Comparison) -> str:
    dims = list(c.dimensions)
    head = "".join(f"<th>{_e(BY_ID[d].title)}</th>" for d in dims)
    rows = []
    for t in c.treatments:
        tds = []
        for d in dims:
            cell = c.cell(t.id, d)
            if cell.empty:
                shown = cell.note if cell.note.startswith(("no RCT", "not applicable")) else "—"
                tds.append(f'<td class="empty" title="{_e(cell.note)}">{_e(shown)}</td>')
                continue
            text = cell.headline if len(cell.headline) < 160 else cell.headline[:157] + "…"
            note = f'<div class="note">{_e(cell.note)}</div>' if cell.note else ""
            flags = cell.findings[0].flags
            warn = [] if d == "certainty" else [fl for fl in flags if fl.startswith(_WARN)]
            if warn:
                note += "<div class='flags'>⚠ " + _e("; ".join(warn)) + "</div>"
            cert = _badge(cell.certainty.label) if cell.certainty and d != "certainty" else ""
            refs = cell.sources
            links = " ".join(f'<a href="#src-{_e(x.row_id)}">{_e(x.row_id)}</a>' for x in refs[:3])
            more = f" +{len(refs) - 3}" if len(refs) > 3 else ""
            tds.append(f"<td>{_e(text)} {cert}{note}<div class='src'>{links}{more}</div></td>")
        rows.append(f"<tr><th>{_e(t.name)}<div class='src'>{_e(t.modality)}</div></th>"
                    + "".join(tds) + "</tr>")
    return (f'<div class="scroll"><table class="matrix"><thead><tr><th>Treatment</th>{head}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _own(c: Comparison, tid: str, dim: str) -> list[Finding]:
    """A treatment's own findings (a class row's members are plotted under the members)."""
    if dim not in c.dimensions:
        return []
    return [f for f in c.cell(tid, dim).findings if f.treatment == tid]


def _forest_sections(c: Comparison) -> str:
    groups: dict[str, list[ForestRow]] = {}
    seen: set[str] = set()
    for d in ("efficacy", "response", "nonresponse", "durability"):
        for t in c.treatments:
            for f in _own(c, t.id, d):
                if f.value is None or f.ci_low is None or f.ci_high is None or f.row_id in seen:
                    continue
                seen.add(f.row_id)
                groups.setdefault(f.unit, []).append(ForestRow(
                    label=t.name, detail=f"{f.context} · {f.condition} · {f.row_id}",
                    estimate=f.value, low=f.ci_low, high=f.ci_high, group=BY_ID[d].title))
    out = []
    ratio = {"OR", "RR", "HR"}
    for unit, rows in groups.items():
        if unit in ("percent", "probability"):
            continue
        unique = list(dict.fromkeys(rows))
        svg = forest_plot(unique, title=f"{unit} with 95% intervals", x_label=unit,
                          null=1.0 if unit in ratio else 0.0, log_scale=unit in ratio)
        direction = {"SMD": "negative favours the treatment (as printed)",
                     "MD": "negative (fewer HAM-A points) favours the treatment",
                     "Hedges g": "positive favours the treatment (as printed)",
                     "OR": "above 1 favours the treatment for response; for relapse below 1",
                     "RR": "below 1 = less non-response on the treatment",
                     "HR": "below 1 = slower relapse on the treatment"}.get(unit, "as printed")
        out.append(f"<figure>{svg}<figcaption>{_e(unit)}: {_e(direction)}. Values and "
                   "intervals exactly as each source printed them; scales and comparators "
                   "differ between rows, so compare within a row's context.</figcaption></figure>")
    return "".join(out) or "<p>No interval estimates among the selected treatments.</p>"


def _timeline(c: Comparison) -> str:
    items: list[TimelineItem] = []
    for t in c.treatments:
        if t.is_control:
            continue
        seen: set[str] = set()
        for d in ("onset", "durability"):
            for f in _own(c, t.id, d):
                if f.hours is None or f.row_id in seen:
                    continue
                seen.add(f.row_id)
                lo, hi = f.hours
                kind = ("onset" if f.kind == "onset" else
                        "effect" if f.kind in ("effect vs control", "significance test")
                        else "relapse" if f.kind == "relapse" else "duration")
                if kind == "duration":
                    lo = 0.0  # benefit lasted up to hi
                where = "" if f.directness == "direct" else f", {f.condition}"
                items.append(TimelineItem(t.name, kind, lo, max(lo, hi),
                                          f"{f.text} ({f.row_id}{where})"))
    if not items:
        return "<p>No onset or duration times among the selected treatments.</p>"
    svg = timeline_plot(items, title="Onset and durability on one time axis (hours to a year)")
    return (f"<figure>{svg}<figcaption>Circles: earliest reported benefit (a shaded bar means "
            "'within'). Squares: effect vs control measured at that time. Bars: how long "
            "benefit lasted. Diamonds: time to relapse. Log time axis.</figcaption></figure>")


def _bars(c: Comparison, dim: str, title: str) -> str:
    if dim not in c.dimensions:
        return ""
    groups: dict[str, list[Bar]] = {}
    for t in c.treatments:
        if t.is_control:
            continue
        for f in _own(c, t.id, dim):
            # Bounds ("<5%") and shares of a subgroup stay in the tables, not in the bars.
            if f.unit != "percent" or f.value is None or f.bound is not None or _subgroup(f):
                continue
            name = f.effect or f.kind
            comp = f.comparator_value if f.comparator_text and "%" in f.comparator_text else None
            groups.setdefault(name, []).append(Bar(
                t.name, f.value, comp, f"{f.label} · {f.row_id} · {f.condition}"))
    if not groups:
        return "<p>No percentages among the selected treatments.</p>"
    svg = bar_chart([BarGroup(k, tuple(v)) for k, v in groups.items()], title=title)
    return (f"<figure>{svg}<figcaption>Outlined bars: the paired control arm of the same study. "
            "Populations differ (many ketamine rates come from depression clinics); see the "
            "table below for each row's condition and design. Bounds such as '&lt;5%' and "
            "shares of a subgroup are in the table, not drawn.</figcaption></figure>")


def _subgroup(f: Finding) -> bool:
    """A percentage of a subgroup (e.g. "of hypertensive patients"), not of all patients."""
    return "requiring" in f.label.lower()


def _detail(c: Comparison, dim: str) -> str:
    rows = []
    for t in c.treatments:
        cell = c.cell(t.id, dim)
        if cell.empty:
            rows.append(f"<tr><th>{_e(t.name)}</th><td class='empty' colspan=3>"
                        f"{_e(cell.note)}</td></tr>")
            continue
        items = []
        if dim == "regulatory":
            items.append(f"<li><b>{_e(cell.headline)}</b></li>")
        if dim == "certainty" and cell.certainty is not None:
            cc = cell.certainty
            items.append(f"<li>{_e(size_text(cc))}</li>")
            items += [f"<li class='flags'>{_e(flag)}</li>" for flag in cc.flags]
        else:
            for f in cell.findings:
                head = f"<b>{_e(f.effect)}</b>: " if f.effect else ""
                flags = f"<div class='flags'>{_e('; '.join(f.flags))}</div>" if f.flags else ""
                items.append(f"<li>{head}{_e(f.text)} — {_e(f.context)} "
                             f"<span class='src'>[{_refs(f)}]</span>{flags}</li>")
        for key, value in cell.extra:
            items.append(f"<li>{_e(key)}: {_e(value)}</li>")
        items += [f"<li class='fit'>≈ {_e(fit_text(fit))}</li>" for fit in cell.fits]
        note = f"<div class='note'>{_e(cell.note)}</div>" if cell.note else ""
        cert = _badge(cell.certainty.label) if cell.certainty else ""
        rows.append(f"<tr><th>{_e(t.name)}</th><td><ul>{''.join(items)}</ul>{note}</td>"
                    f"<td>{cert}</td><td class='src'>{_refs(cell)}</td></tr>")
    return ("<table><thead><tr><th>Treatment</th><th>Findings</th><th>Certainty</th>"
            f"<th>Rows</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _claims(verdicts: Sequence[ClaimVerdict]) -> str:
    rows = []
    for v in verdicts:
        cls = v.verdict.replace(" ", "-")
        refs = " ".join(f'<a href="#src-{_e(s.row_id)}">{_e(s.row_id)}</a>' for s in v.sources)
        rows.append(f"<tr><td>{_e(v.claim)}</td><td class='verdict {cls}'>{_e(v.verdict)}</td>"
                    f"<td>{_badge(v.certainty)}</td><td>{_e(v.summary)}</td>"
                    f"<td class='src'>{refs}</td></tr>")
    return ("<table><thead><tr><th>Claim (seed article)</th><th>Verdict</th><th>Certainty</th>"
            "<th>What the evidence says</th><th>Rows</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _sources(ids: Sequence[str], evidence: EvidenceSet) -> str:
    """Cited rows grouped under their source, each row with its location and quoted fragment."""
    groups: dict[str, list[str]] = {}
    for rid in ids:
        groups.setdefault(evidence.get(rid).source.key, []).append(rid)
    items = []
    for rids in sorted(groups.values(), key=lambda g: evidence.get(g[0]).source.citation):
        s = evidence.get(rids[0]).source
        rows = "".join(
            f"<li id='src-{_e(rid)}'><b>{_e(rid)}</b> ({_e(evidence.get(rid).location)}): "
            f"<span class='quote'>“{_e(evidence.get(rid).quote)}”</span></li>"
            for rid in sorted(rids))
        link = (f"<a href='{_e(s.link)}'>{_e(s.link)}</a>"
                if s.link.startswith(("https://", "http://")) else "")
        items.append(f"<li>{_e(s.citation)}. {_e(s.identifiers)} {link}<ul>{rows}</ul></li>")
    return f"<ol class='src'>{''.join(items)}</ol>"


def comparison_html(c: Comparison, verdicts: Sequence[ClaimVerdict],
                    evidence: EvidenceSet) -> str:
    """The full report as one self-contained HTML page."""
    cited: dict[str, None] = {}
    for cell in c.cells.values():
        for s in cell.sources:
            cited.setdefault(s.row_id, None)
    for v in verdicts:
        for s in v.sources:
            cited.setdefault(s.row_id, None)
    details = "".join(f"<h3 id='dim-{d}'>{_e(BY_ID[d].title)}</h3><p>{_e(BY_ID[d].question)}</p>"
                      f"{_detail(c, d)}" for d in c.dimensions)
    gaps = "".join(f"<li>{_e(g)}</li>" for g in c.gaps)
    nav = "".join(f"<a href='#{a}'>{t}</a>" for a, t in (
        ("glance", "At a glance"), ("forest", "Efficacy"), ("timeline", "Onset"),
        ("side-effects", "Side effects"), ("acceptability", "Acceptability"),
        ("claims", "Claims"), ("details", "Details"), ("gaps", "Gaps"), ("sources", "Sources")))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>equipoise — ketamine vs conventional anxiety treatments ({_e(c.condition)})</title>
<style>{_CSS}</style></head>
<body>
<h1>Ketamine vs conventional treatments for anxiety: what the evidence says</h1>
<p>Condition: <b>{_e(c.condition)}</b> · {len(c.treatments)} treatments ·
{len(cited)} cited evidence rows · equipoise {_e(__version__)}</p>
<p class="disclaimer">{_e(DISCLAIMER)} Contraindications and individual circumstances are not
assessed here.</p>
<nav>{nav}</nav>
<h2 id="glance">At a glance</h2>
<p>Each cell shows the best-placed finding (closest population, strongest design); the badge is
a GRADE-style certainty label and the links lead to the exact rows cited.</p>
{_matrix(c)}
<h2 id="forest">Efficacy, response and relapse vs control</h2>
{_forest_sections(c)}
<h2 id="timeline">Onset and durability: hours vs weeks</h2>
{_timeline(c)}
<h2 id="side-effects">Side-effect profile</h2>
{_bars(c, "side_effects", "Side effects (% of patients)")}
<h2 id="acceptability">Acceptability</h2>
{_bars(c, "acceptability", "Dropout and discontinuation (% of patients)")}
<h2 id="claims">Claims check</h2>
<p>The seed article's common claims, each judged against the rows it rests on.</p>
{_claims(verdicts)}
<h2 id="details">Details by dimension</h2>
{details}
<h2 id="gaps">Gaps</h2><ul>{gaps}</ul>
<h2 id="sources">Sources</h2>
{_sources(list(cited), evidence)}
</body></html>
"""
