"""The month's 信访形势分析 (situation analysis) as a Word document.

Every figure is computed from the case store when the report is made: the statistics of the
month (``reporting.period_report``: volume, 初信初访 and 重复, channels, categories, places,
units, the "四个百分之百"), the previous month's volume (环比), the unit assessment
(``assessment.assess``), the cases overdue and the early-warning clusters open on the last day
of the month (``warnings.clusters``, 信访局 reports only: a cluster crosses units). Charts are
drawn with matplotlib (Agg) in the CJK font of ``CJK_FONT`` and embedded as PNG.

A report of a unit account covers that unit's cases only (the caller's ``scope``,
bot/store/visibility.case_scope) and says so in its title.

Steps, ratings and overdue dates are taken as of ``as_of``: the last day of the month, or
today for the month in progress.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rules.cn_dates import cn_date
from bot.rules.numbers import GROUP_MIN
from bot.rules.statuses import status_label
from bot.store import assessment as store_assessment
from bot.store import reporting
from bot.store import warnings as store_warnings
from bot.store.due import NEXT_DUE_LABELS, next_due_column
from bot.store.models import Case

# Debian package fonts-wqy-zenhei (installed by `make browser` and the back office image).
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
OVERDUE_ROWS = 50  # overdue cases listed one by one; the total is always given
TOP = 3  # how many channels / categories / places the sentences name

CN_NUMERALS = "一二三四五六七八九十"


class MonthError(ValueError):
    """A month that cannot be reported on; ``message`` is Chinese (with English for the CLI)."""

    def __init__(self, message: str, english: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.english = english


def parse_month(raw: str | None, today: date) -> date:
    """The first day of the month written ``YYYY-MM``; ``MonthError`` for anything else or a
    month that has not begun."""
    match = MONTH_RE.match((raw or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise MonthError("月份格式不正确，应为“年-月”，如 2026-11。",
                         "invalid month, expected YYYY-MM (e.g. 2026-11)")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    if first > today:
        raise MonthError("所选月份尚未开始，无法生成报告。", "that month has not begun yet")
    return first


def month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def share(n: int, total: int) -> str:
    return f"{100.0 * n / total:.1f}%" if total else "—"


def change_phrase(current: int, previous: int) -> str:
    """环比 of the month's volume, as the sentence says it."""
    if previous == 0:
        return "上月无登记信访事项，不计算环比" if current else "与上月持平（均为0件）"
    if current == previous:
        return f"与上月持平（上月{previous}件）"
    change = 100.0 * (current - previous) / previous
    word = "增长" if change > 0 else "下降"
    return f"环比{word}{abs(change):.1f}%（上月{previous}件）"


# --- the figures ------------------------------------------------------------------------------


@dataclass
class OverdueCase:
    case_no: str
    category: str
    unit: str
    owed: str
    due: date
    days: int


@dataclass
class MonthFigures:
    first: date
    last: date
    as_of: date
    region: str  # 西湖区 (the jurisdiction's short name)
    agency: str
    unit: str | None  # the unit a unit account's report covers
    report: reporting.Report
    previous_total: int
    assessed: store_assessment.Assessment
    overdue: list[OverdueCase]
    overdue_total: int
    clusters: list[Any] | None  # None: not part of a unit's report

    def table(self, key: str) -> list[list[Any]]:
        return self.report.tables[key].rows

    @property
    def summary(self) -> dict[str, int]:
        return {row[0]: row[1] for row in self.table("summary")}

    @property
    def total(self) -> int:
        return self.summary["信访总量"]

    @property
    def title(self) -> str:
        return f"{self.region}信访形势分析（{self.first.year}年{self.first.month}月）"


async def gather(
    session: AsyncSession, first: date, *, today: date, region: str, agency: str,
    unit: str | None = None, scope: Sequence[Any] = (), due_soon_days: int = 3,
) -> MonthFigures:
    """The figures of the month beginning ``first`` among the cases in ``scope``."""
    last = month_end(first)
    as_of = min(today, last)
    report = await reporting.period_report(
        session, first, last, today=as_of, due_soon_days=due_soon_days, scope=scope)
    before = previous_month(first)
    previous_total = int(await session.scalar(
        select(func.count()).select_from(Case).where(
            Case.created_at >= reporting.day_start(before),
            Case.created_at < reporting.day_start(first), *scope)) or 0)
    assessed = await store_assessment.assess(session, first, last, as_of=as_of, scope=scope)
    due = next_due_column()
    overdue_total = int(await session.scalar(
        select(func.count()).select_from(Case).where(due < as_of, *scope)) or 0)
    overdue = [
        OverdueCase(c.case_no, c.category, c.responsible_unit,
                    NEXT_DUE_LABELS.get(c.status, (status_label(c.status), ""))[0], d,
                    (as_of - d).days)
        for c, d in (await session.execute(
            select(Case, due).where(due < as_of, *scope).order_by(due, Case.id).limit(OVERDUE_ROWS)
        )).all()
    ]
    clusters = None if unit else await store_warnings.clusters(session, as_of, scope)
    return MonthFigures(first, last, as_of, region, agency, unit, report, previous_total,
                        assessed, overdue, overdue_total, clusters)


# --- charts -----------------------------------------------------------------------------------

PALETTE = ["#8f1d1d", "#1d4f91", "#d49b00", "#1e6b3a", "#6b3fa0", "#0f7c8c", "#b35c1e", "#5f6773"]


def _font():
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=CJK_FONT) if os.path.exists(CJK_FONT) else FontProperties()


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _figure(width: float = 6.0, height: float = 2.8):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def chart_daily(rows: list[list[Any]], title: str) -> bytes:
    font = _font()
    fig, ax = _figure()
    days = [int(d[8:]) for d, _ in rows]
    values = [n for _, n in rows]
    ax.plot(days, values, color=PALETTE[0], marker="o", markersize=3, linewidth=1.5)
    ax.fill_between(days, values, color=PALETTE[0], alpha=0.12)
    ax.set_xlim(1, max(days) if days else 1)
    ax.set_ylim(bottom=0)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("日", fontproperties=font)
    ax.set_ylabel("件数", fontproperties=font)
    ax.set_title(title, fontproperties=font, fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def chart_hbar(rows: list[list[Any]], title: str, limit: int = 10) -> bytes:
    font = _font()
    rows = rows[:limit]
    fig, ax = _figure(height=max(1.6, 0.35 * len(rows) + 0.8))
    labels = [str(r[0]) for r in rows][::-1]
    values = [r[1] for r in rows][::-1]
    bars = ax.barh(range(len(values)), values, color=PALETTE[1], height=0.6)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontproperties=font)
    for bar, value in zip(bars, values):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value}",
                va="center", fontproperties=font, fontsize=9)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title, fontproperties=font, fontsize=11)
    return _png(fig)


def chart_pie(rows: list[list[Any]], title: str) -> bytes:
    font = _font()
    fig, ax = _figure(5.0, 3.0)
    values = [r[1] for r in rows]
    wedges, _ = ax.pie(values, colors=PALETTE[: len(values)], startangle=90, counterclock=False,
                       wedgeprops={"width": 0.45, "edgecolor": "white"})
    total = sum(values)
    ax.legend(wedges, [f"{r[0]} {r[1]}件（{share(r[1], total)}）" for r in rows], prop=font,
              loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=9)
    ax.set_title(title, fontproperties=font, fontsize=11)
    ax.axis("equal")
    return _png(fig)


def chart_rates(names: list[str], values: list[float | None], title: str) -> bytes:
    font = _font()
    fig, ax = _figure()
    shown = [v * 100 if v is not None else 0 for v in values]
    bars = ax.bar(range(len(names)), shown, color=PALETTE[3], width=0.55)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontproperties=font)
    ax.set_ylim(0, 110)
    ax.set_ylabel("%", fontproperties=font)
    for bar, value in zip(bars, values):
        label = f"{value * 100:.1f}%" if value is not None else "—"
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 2, label,
                ha="center", fontproperties=font, fontsize=9)
    ax.set_title(title, fontproperties=font, fontsize=11)
    return _png(fig)


# --- the document -----------------------------------------------------------------------------

BODY_FONT = "仿宋"
HEADING_FONT = "黑体"
TITLE_FONT = "宋体"


def _east_asian(run_or_style: Any, name: str) -> None:
    from docx.oxml.ns import qn

    run_or_style.font.name = name
    element = run_or_style.element
    rpr = element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), name)


class _Writer:
    """A sober official layout: a centred title, 一、二、 headings in 黑体, body in 仿宋 with a
    two-character first-line indent, plain tables, and the charts."""

    def __init__(self) -> None:
        from docx import Document
        from docx.shared import Cm, Pt

        self.doc = Document()
        section = self.doc.sections[0]
        section.page_height, section.page_width = Cm(29.7), Cm(21.0)
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
        normal = self.doc.styles["Normal"]
        _east_asian(normal, BODY_FONT)
        normal.font.size = Pt(14)
        normal.paragraph_format.line_spacing = Pt(26)
        normal.paragraph_format.space_after = Pt(0)
        self.headings = 0

    def title(self, text: str, subtitle: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.line_spacing = Pt(36)
        run = paragraph.add_run(text)
        _east_asian(run, TITLE_FONT)
        run.font.size, run.bold = Pt(22), True
        line = self.doc.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        line.paragraph_format.space_after = Pt(12)
        run = line.add_run(subtitle)
        run.font.size = Pt(12)

    def heading(self, text: str) -> None:
        from docx.shared import Pt

        numeral = CN_NUMERALS[self.headings] if self.headings < len(CN_NUMERALS) else str(self.headings + 1)
        self.headings += 1
        paragraph = self.doc.add_paragraph()
        paragraph.paragraph_format.first_line_indent = Pt(28)
        paragraph.paragraph_format.space_before = Pt(6)
        run = paragraph.add_run(f"{numeral}、{text}")
        _east_asian(run, HEADING_FONT)
        run.font.size = Pt(16)

    def text(self, text: str) -> None:
        from docx.shared import Pt

        paragraph = self.doc.add_paragraph(text)
        paragraph.paragraph_format.first_line_indent = Pt(28)

    def note(self, text: str) -> None:
        from docx.shared import Pt

        paragraph = self.doc.add_paragraph()
        paragraph.paragraph_format.line_spacing = Pt(18)
        run = paragraph.add_run(text)
        run.font.size = Pt(10.5)

    def chart(self, png: bytes, caption: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm, Pt

        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.line_spacing = 1.0
        paragraph.add_run().add_picture(io.BytesIO(png), width=Cm(14.5))
        label = self.doc.add_paragraph()
        label.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = label.add_run(caption)
        run.font.size = Pt(10.5)

    def table(self, columns: list[str], rows: list[list[Any]]) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        table = self.doc.add_table(rows=1, cols=len(columns))
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, columns):
            cell.text = ""
            run = cell.paragraphs[0].add_run(str(name))
            _east_asian(run, HEADING_FONT)
        for row in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, row):
                cell.text = str(value)
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.first_line_indent = Pt(0)
                    paragraph.paragraph_format.line_spacing = Pt(16)
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                    for run in paragraph.runs:
                        run.font.size = Pt(10)
        self.doc.add_paragraph()

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def _top(rows: list[list[Any]], total: int, n: int = TOP) -> str:
    return "、".join(f"{r[0]}{r[1]}件（占{share(r[1], total)}）" for r in rows[:n])


def _with_share(rows: list[list[Any]], total: int) -> list[list[Any]]:
    return [[r[0], r[1], share(r[1], total)] for r in rows]


def render_docx(f: MonthFigures) -> bytes:
    """The report of ``f`` as a .docx file."""
    w = _Writer()
    scope_text = f"（{f.unit}）" if f.unit else ""
    w.title(f"《{f.title}》", f"{f.agency}{scope_text}　统计期间：{cn_date(f.first)}至{cn_date(f.last)}")
    summary, total = f.summary, f.total

    w.heading("总体情况")
    repeat = summary["重复信访"]
    daily = f.table("daily")
    peak = max(daily, key=lambda r: r[1]) if daily else None
    days = len(daily)
    opening = f"本月共登记信访事项{total}件，{change_phrase(total, f.previous_total)}。"
    if f.unit:
        opening += f"统计范围为{f.unit}承办的信访事项。"
    w.text(opening + (
        f"其中，初信初访{total - repeat}件，占{share(total - repeat, total)}；"
        f"重复信访{repeat}件，占{share(repeat, total)}。"
        f"集体访（{GROUP_MIN}人以上）{summary[f'集体访（{GROUP_MIN}人以上）']}件，"
        f"涉法涉诉{summary['涉法涉诉']}件。"
    ))
    if total and peak is not None:
        w.text(f"日均登记{total / days:.1f}件，登记量最多的是{f.first.month}月{int(peak[0][8:])}日"
               f"（{peak[1]}件）。截至{cn_date(f.as_of)}，本月登记的信访事项已办结"
               f"{summary['已办结']}件，不予受理并告知{summary['不予受理']}件。")
    if total:
        w.chart(chart_daily(daily, "每日登记量"), "图1　本月每日登记信访事项件数")

    w.heading("信访渠道")
    channels = f.table("channel")
    if total:
        w.text(f"从信访渠道看，{_top(channels, total, len(channels))}。")
        w.chart(chart_pie(channels, "信访渠道"), "图2　信访渠道分布")
    else:
        w.text("本月无登记的信访事项。")

    w.heading("反映问题分类")
    categories = f.table("category")
    if total:
        w.text(f"从反映问题看，排在前{min(TOP, len(categories))}位的是：{_top(categories, total)}。")
        w.chart(chart_hbar(categories, "反映问题分类"), "图3　反映问题分类（件）")
        w.table(["内容分类", "件数", "占比"], _with_share(categories, total))
    else:
        w.text("本月无登记的信访事项。")

    w.heading("问题属地")
    places = f.table("place")
    if total:
        w.text(f"从问题属地看，信访事项较多的是：{_top(places, total)}。")
        w.table(["问题属地", "件数", "占比"], _with_share(places, total))
    else:
        w.text("本月无登记的信访事项。")

    w.heading("责任单位办理情况")
    units = f.table("unit")
    rates = {row[0]: row for row in f.table("rates")}
    if total:
        w.text(f"本月信访事项涉及责任单位{len(units)}个，件数较多的是：{_top(units, total)}。"
               f"“四个百分之百”方面，登记率{rates['登记率'][3]}，阅办率{rates['阅办率'][3]}"
               f"（{rates['阅办率'][1]}件），交办率{rates['交办率'][3]}（{rates['交办率'][1]}件），"
               f"回告率{rates['回告率'][3]}（{rates['回告率'][1]}件）。")
        w.table(["责任单位", "件数", "占比"], _with_share(units, total))
    else:
        w.text("本月无登记的信访事项。")

    w.heading("考核指标")
    t = f.assessed.total
    parts = []
    for name, attribute, counted, over in store_assessment.INDICATORS:
        ind = getattr(t, attribute)
        parts.append(f"{name}{ind.text}（{counted}{ind.numerator}件，{over}{ind.denominator}件）")
    w.text(f"按本月登记的信访事项计算（办理环节截至{cn_date(f.as_of)}），" + "；".join(parts) + "。")
    if total:
        w.chart(chart_rates([n for n, *_ in store_assessment.INDICATORS],
                            [getattr(t, a).rate for _, a, *_ in store_assessment.INDICATORS],
                            "主要考核指标"), "图4　主要考核指标")
        w.table(["责任单位", "件数", *(n for n, *_ in store_assessment.INDICATORS)],
                [[u.unit, u.cases, *(getattr(u, a).text for _, a, *_ in store_assessment.INDICATORS)]
                 for u in [*f.assessed.units, *([t] if len(f.assessed.units) > 1 else [])]])
    w.note("指标口径：" + "".join(f"{n}：{d}" for n, d in store_assessment.DEFINITIONS.items())
           + "分母为0时记为“—”。")

    w.heading("超期信访事项")
    if f.overdue_total:
        by_unit: dict[str, int] = {}
        for item in f.overdue:
            by_unit[item.unit] = by_unit.get(item.unit, 0) + 1
        w.text(f"截至{cn_date(f.as_of)}，超过法定期限仍未完成下一步办理的信访事项共{f.overdue_total}件"
               f"（含以前月份登记的事项）。"
               + ("" if f.overdue_total <= OVERDUE_ROWS else f"下表列出期限最早的{OVERDUE_ROWS}件。"))
        w.table(["信访件编号", "内容分类", "责任单位", "应办事项", "期限", "超期天数"],
                [[o.case_no, o.category, o.unit, o.owed, cn_date(o.due), o.days] for o in f.overdue])
    else:
        w.text(f"截至{cn_date(f.as_of)}，无超期信访事项。")

    if f.clusters is not None:
        w.heading("矛盾风险预警")
        if f.clusters:
            people = sum(c.people for c in f.clusters)
            w.text(f"截至{cn_date(f.as_of)}，系统排查出需要关注的信访聚集{len(f.clusters)}起，"
                   f"涉及信访事项{sum(len(c.case_nos) for c in f.clusters)}件、约{people}人。")
            w.table(["预警事项", "预警原因", "件数", "涉及人数", "责任单位", "首件日期", "最近日期"],
                    [[c.label, "、".join(c.reasons), len(c.case_nos), c.people, "、".join(c.units),
                      cn_date(c.first_on), cn_date(c.last_on)] for c in f.clusters])
        else:
            w.text(f"截至{cn_date(f.as_of)}，未排查出达到预警条件的信访聚集。")

    w.heading("下一步工作建议")
    advice = []
    if f.overdue_total:
        units_text = "、".join(sorted({o.unit for o in f.overdue}))
        advice.append(f"督促{units_text}抓紧办理超期信访事项{f.overdue_total}件，确保依法按期答复。")
    late = t.timely_acceptance.denominator - t.timely_acceptance.numerator
    if late:
        advice.append(f"本月有{late}件信访事项未在期限内告知受理情况，应加强登记、转送和告知环节的时限管理。")
    if repeat:
        advice.append(f"重复信访{repeat}件，应逐件分析原因，对合理诉求推动解决，对诉求不合理的做好解释疏导。")
    dissatisfied = t.satisfaction.denominator - t.satisfaction.numerator
    if dissatisfied:
        advice.append(f"对评价为“不满意”的{dissatisfied}件开展回访，查找办理中的问题。")
    if f.clusters:
        advice.append(f"对{len(f.clusters)}起预警聚集落实包案领导和化解措施，防止矛盾激化。")
    if not advice:
        advice.append("本月各项指标未见异常，继续做好信访事项的登记、交办、答复和回访工作。")
    for i, line in enumerate(advice):
        w.text(f"（{CN_NUMERALS[i] if i < len(CN_NUMERALS) else i + 1}）{line}")
    w.note(f"说明：本报告由信访信息系统根据本月登记的信访事项自动统计生成，数据截至{cn_date(f.as_of)}。")
    return w.save()


def default_filename(first: date, unit_key: str = "") -> str:
    suffix = f"-{unit_key}" if unit_key else ""
    return f"xinfang-monthly-{first.year}-{first.month:02d}{suffix}.docx"


async def build(
    session: AsyncSession, first: date, *, today: date, region: str, agency: str,
    unit: str | None = None, scope: Sequence[Any] = (), due_soon_days: int = 3,
) -> tuple[MonthFigures, bytes]:
    figures = await gather(session, first, today=today, region=region, agency=agency, unit=unit,
                           scope=scope, due_soon_days=due_soon_days)
    return figures, render_docx(figures)
