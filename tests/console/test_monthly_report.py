"""The month's 信访形势分析 (Word): made by the command line and by the statistics page's
button from a seeded month, opened with python-docx, its figures checked against the
database; a unit's report covers its unit; a PNG preview of the first page is kept under
test-artifacts/report/ (LibreOffice and pdftoppm, installed by `make browser`)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import text

from bot.__main__ import main, write_monthly_report
from bot.store import monthly_report
from bot.store import warnings as store_warnings
from bot.web.keys import SESSIONMAKER
from tests.console.conftest import LONG_SESSIONS
from tests.console.test_assessment import MARKET, seed_october, unit_officer
from tests.console.test_workflow import at

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"
MONTH = ("2026-10-01", "2026-11-01")  # local dates; the cases were filed at 10:00 Hangzhou time


@pytest.fixture
def console_env():
    return LONG_SESSIONS


def texts(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def table_with(doc, header: str) -> list[list[str]]:
    for table in doc.tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        if rows and rows[0][0] == header:
            return rows
    raise AssertionError(f"no table starting with {header}")


async def scalar(raw_engine, sql: str, **params) -> int:
    async with raw_engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


def in_month(start: str, end: str) -> str:
    return f"created_at >= '{start}' AND created_at < '{end}'"


async def check_against_database(doc, raw_engine, server) -> None:
    body = texts(doc)
    assert doc.paragraphs[0].text == "《西湖区信访形势分析（2026年10月）》"
    # UTC bounds of October in Hangzhou (UTC+8): the cases were all filed at 10:00 local time
    october = "created_at >= '2026-09-30 16:00:00' AND created_at < '2026-10-31 16:00:00'"
    september = "created_at >= '2026-08-31 16:00:00' AND created_at < '2026-09-30 16:00:00'"
    total = await scalar(raw_engine, f"SELECT COUNT(*) FROM cases WHERE {october}")
    previous = await scalar(raw_engine, f"SELECT COUNT(*) FROM cases WHERE {september}")
    repeat = await scalar(raw_engine, f"SELECT COUNT(*) FROM cases WHERE {october} AND (is_repeat = TRUE"
                                      " OR EXISTS (SELECT 1 FROM case_links l WHERE l.case_id = cases.id))")
    assert (total, previous, repeat) == (8, 1, 1)
    change = 100.0 * (total - previous) / previous
    assert f"本月共登记信访事项{total}件，环比增长{change:.1f}%（上月{previous}件）" in body
    assert f"初信初访{total - repeat}件，占{100 * (total - repeat) / total:.1f}%；重复信访{repeat}件" in body
    # categories: the table is the database's GROUP BY
    async with raw_engine.connect() as conn:
        grouped = (await conn.execute(text(
            f"SELECT category, COUNT(*) FROM cases WHERE {october} GROUP BY category ORDER BY COUNT(*) DESC, category"
        ))).all()
    categories = table_with(doc, "内容分类")
    assert [(r[0], int(r[1])) for r in categories[1:]] == [(c, n) for c, n in grouped]
    # units in the assessment table: their case counts
    async with raw_engine.connect() as conn:
        per_unit = dict((await conn.execute(text(
            f"SELECT responsible_unit, COUNT(*) FROM cases WHERE {october} GROUP BY responsible_unit"
        ))).all())
    assessment = table_with(doc, "责任单位")  # the first: cases per unit
    assert {r[0]: int(r[1]) for r in assessment[1:]} == per_unit
    indicators = [t for t in doc.tables if [c.text for c in t.rows[0].cells][2:3] == ["及时受理率"]][0]
    total_row = [c.text for c in indicators.rows[-1].cells]
    # as of the last day of the month (test_assessment: the page on 31 October says the same)
    assert total_row[:4] == ["合计", "8", "71.4%", "100.0%"]
    assert "及时受理率71.4%（及时受理5件，应受理7件）" in body
    assert "按期办结率100.0%（按期答复2件，应办结2件）" in body
    # overdue on 31 October (the last day of the month), as the database says
    overdue = await scalar(raw_engine, (
        "SELECT COUNT(*) FROM cases WHERE (status = 'registered' AND acceptance_notice_due < :d)"
        " OR (status IN ('accepted', 'assigned') AND handling_due < :d)"), d=date(2026, 10, 31))
    assert overdue == 2  # d (due 10-19) and the September case (due 10-05)
    assert f"超过法定期限仍未完成下一步办理的信访事项共{overdue}件" in body
    assert len(table_with(doc, "信访件编号")) == overdue + 1
    # early warning on the last day of the month
    async with server.app[SESSIONMAKER]() as session:
        clusters = await store_warnings.clusters(session, date(2026, 10, 31))
    if clusters:
        assert f"需要关注的信访聚集{len(clusters)}起" in body
    else:
        assert "未排查出达到预警条件的信访聚集" in body
    # the charts are embedded as PNG images
    images = [rel.target_part for rel in doc.part.rels.values() if "image" in rel.reltype]
    assert len(images) >= 4 and all(part.content_type == "image/png" for part in images)
    assert len(doc.inline_shapes) >= 4
    assert not re.search(r"\{|\}|None|nan", body)


async def test_the_command_line_and_the_button_make_the_same_report(
    server, anonymous, staff, clock, raw_engine, console_settings, tmp_path, database
):
    officer, _ = await seed_october(server, anonymous, staff, clock)
    clock.now = at("2026-12-10", hour=18)
    out = tmp_path / "october.docx"
    written = await write_monthly_report(console_settings(), "2026-10", str(out), today=date(2026, 12, 10))
    assert written == str(out)
    from_cli = Document(str(out))
    await check_against_database(from_cli, raw_engine, server)

    response = await officer.client.get("/console/stats/monthly-report.docx?month=2026-10")
    assert response.status == 200
    assert response.content_type == monthly_report.DOCX_CONTENT_TYPE
    assert 'attachment; filename="xinfang-monthly-2026-10.docx"' == response.headers["Content-Disposition"]
    from_button = Document(io.BytesIO(await response.read()))
    await check_against_database(from_button, raw_engine, server)
    assert texts(from_button) == texts(from_cli)
    # the button is on the statistics page
    _, page = await officer.page("/console/stats")
    assert 'action="/console/stats/monthly-report.docx"' in page and 'name="month"' in page

    if database.backend == "sqlite":
        preview(out)


def preview(docx: Path) -> None:
    """The first page as PNG, rendered by LibreOffice (PDF) and pdftoppm."""
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        pytest.skip("LibreOffice and poppler-utils are needed for the preview (make browser)")
    work = docx.parent
    subprocess.run([soffice, f"-env:UserInstallation=file://{work}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(work), str(docx)],
                   check=True, capture_output=True, timeout=180)
    pdf = docx.with_suffix(".pdf")
    assert pdf.exists()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / "monthly-report-page1"
    subprocess.run([pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(target)],
                   check=True, capture_output=True, timeout=60)
    assert (ARTIFACTS / "monthly-report-page1.png").stat().st_size > 10_000


async def test_a_unit_account_gets_the_report_of_its_unit(server, anonymous, staff, clock, database):
    await seed_october(server, anonymous, staff, clock)
    clock.now = at("2026-12-10", hour=18)
    member = await unit_officer(server, MARKET)
    try:
        response = await member.client.get("/console/stats/monthly-report.docx?month=2026-10")
        assert response.status == 200
        doc = Document(io.BytesIO(await response.read()))
        body = texts(doc)
        assert MARKET in doc.paragraphs[1].text
        assert "本月共登记信访事项2件" in body and "西湖区住房和城乡建设局" not in body
        assert "矛盾风险预警" not in body  # clusters cross units: the 信访局's report only
        response = await member.client.get("/console/stats/monthly-report.docx?month=2026-13")
        assert response.status == 400 and "月份格式不正确" in await response.text()
        response = await member.client.get("/console/stats/monthly-report.docx?month=2027-01")
        assert response.status == 400 and "尚未开始" in await response.text()
    finally:
        await member.client.close()


@pytest.mark.parametrize("month", ["2026-13", "November", "2099-01"])
def test_the_command_refuses_a_bad_month_without_a_traceback(month, capsys):
    assert main(["report", "--month", month]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert ("月份格式不正确" in err and "expected YYYY-MM" in err) or "尚未开始" in err


async def test_a_past_months_figures_are_those_of_its_last_day(server, anonymous, staff, clock, console_settings,
                                                               tmp_path, raw_engine):
    """已办结 and 不予受理 in the summary are counted as the cases stood on the month's last day
    (from their history), not as they stand when the report is made."""
    officer, cases = await seed_october(server, anonymous, staff, clock)
    # b (replied in October) is closed in December: not 办结 in October's report.
    clock.now = at("2026-12-11")
    status, page = await officer.act(cases["b"], "close")
    assert status == 303, page[:2000]
    assert await scalar(raw_engine, "SELECT COUNT(*) FROM cases WHERE status = 'closed'") == 2

    out = tmp_path / "october.docx"
    await write_monthly_report(console_settings(), "2026-10", str(out), today=date(2026, 12, 11))
    body = texts(Document(str(out)))
    assert "截至2026年10月31日，本月登记的信访事项已办结1件，不予受理并告知1件。" in body
