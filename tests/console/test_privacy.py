"""Personal numbers are masked by default; revealing them needs a role that may, shows them in
that response only, and is written to the audit log (who, when, which case). Every view of a
case is audited too, and the audit log is readable by supervisors."""

from __future__ import annotations

from tests.api.helpers import ID_MASKED, ID_NUMBER, PHONE, PHONE_MASKED, fetch_rows
from tests.console.conftest import file_case


async def test_masked_by_default_everywhere(anonymous, staff):
    case_no = (await file_case(anonymous))["case"]["case_no"]
    officer = await staff("officer")
    for path in ("/console/cases", f"/console/cases/{case_no}", "/console/", "/console/stats"):
        status, page = await officer.page(path)
        assert status == 200, path
        assert ID_NUMBER not in page and PHONE not in page, path
    _, page = await officer.page(f"/console/cases/{case_no}")
    assert f'id="petitioner-id-number">{ID_MASKED}<' in page
    assert f'id="petitioner-phone">{PHONE_MASKED}<' in page
    assert "reveal-button" not in page and "请联系负责人" in page


async def test_an_officer_may_not_reveal(anonymous, staff, raw_engine):
    case_no = (await file_case(anonymous))["case"]["case_no"]
    officer = await staff("officer")
    response = await officer.post(f"/console/cases/{case_no}/reveal")
    assert response.status == 403
    assert ID_NUMBER not in await response.text()
    assert await fetch_rows(raw_engine, "SELECT id FROM audit_log WHERE action = 'reveal_personal_numbers'") == []


async def test_a_supervisor_reveals_once_and_it_is_audited(anonymous, staff, raw_engine, clock):
    case_no = (await file_case(anonymous))["case"]["case_no"]
    supervisor = await staff("supervisor")
    status, page = await supervisor.page(f"/console/cases/{case_no}")
    assert "reveal-button" in page
    response = await supervisor.post(f"/console/cases/{case_no}/reveal")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = await response.text()
    assert f'id="petitioner-id-number">{ID_NUMBER}<' in page
    assert f'id="petitioner-phone">{PHONE}<' in page
    assert "已记入审计日志" in page
    rows = await fetch_rows(raw_engine, """
        SELECT a.actor, a.action, a.at, c.case_no FROM audit_log a JOIN cases c ON c.id = a.case_id
        WHERE a.action = 'reveal_personal_numbers'""")
    assert len(rows) == 1
    assert rows[0]["actor"] == supervisor.username and rows[0]["case_no"] == case_no
    # the next page view is masked again
    _, page = await supervisor.page(f"/console/cases/{case_no}")
    assert ID_NUMBER not in page
    # the case page's own history shows the reveal, and so does the audit log
    assert 'data-action="reveal_personal_numbers"' in page
    _, audit = await supervisor.page(f"/console/audit?case_no={case_no}&action=reveal_personal_numbers")
    assert supervisor.username in audit and "查看完整证件号码和手机号码" in audit and case_no in audit


async def test_views_of_cases_are_audited_and_first_reading_is_recorded(anonymous, staff, raw_engine):
    case_no = (await file_case(anonymous))["case"]["case_no"]
    officer, other = await staff("officer"), await staff("officer")
    await officer.page(f"/console/cases/{case_no}")
    await other.page(f"/console/cases/{case_no}")
    views = await fetch_rows(raw_engine, "SELECT actor FROM audit_log WHERE action = 'view_case' ORDER BY id")
    assert [v["actor"] for v in views] == [officer.username, other.username]
    [case] = await fetch_rows(raw_engine, "SELECT first_read_by, first_read_at FROM cases")
    assert case["first_read_by"] == officer.username and case["first_read_at"] is not None
    reads = await fetch_rows(raw_engine, "SELECT actor FROM case_events WHERE action = 'read'")
    assert reads == [{"actor": officer.username}]


async def test_the_api_reveal_and_the_console_reveal_write_the_same_audit_row(anonymous, staff, raw_engine):
    case_no = (await file_case(anonymous))["case"]["case_no"]
    supervisor = await staff("supervisor")
    response = await supervisor.client.get(f"/api/v1/cases/{case_no}?reveal=1")
    assert response.status == 200
    assert (await response.json())["petitioner"]["id_number"] == ID_NUMBER
    officer = await staff("officer")
    assert (await officer.client.get(f"/api/v1/cases/{case_no}?reveal=1")).status == 403
    rows = await fetch_rows(raw_engine, "SELECT actor FROM audit_log WHERE action = 'reveal_personal_numbers'")
    assert rows == [{"actor": supervisor.username}]


async def test_the_audit_log_is_for_supervisors(staff):
    officer, supervisor = await staff("officer"), await staff("supervisor")
    assert (await officer.page("/console/audit"))[0] == 403
    status, page = await supervisor.page("/console/audit")
    assert status == 200 and "登录" in page


async def test_searches_are_audited_without_what_was_searched_for(anonymous, staff, raw_engine):
    await file_case(anonymous)
    officer = await staff("officer")
    status, page = await officer.page(f"/console/cases?q={ID_NUMBER}")
    assert status == 200 and "共 <strong id=\"case-total\">1</strong> 件" in page
    await officer.page("/console/cases")  # no search, no entry
    rows = await fetch_rows(raw_engine, "SELECT actor, detail FROM audit_log WHERE action = 'case_search'")
    assert len(rows) == 1 and rows[0]["actor"] == officer.username
    detail = rows[0]["detail"] if isinstance(rows[0]["detail"], dict) else __import__("json").loads(rows[0]["detail"])
    assert detail == {"kind": "id_number", "results": 1}


async def test_the_case_page_shows_the_document_type_contact_and_the_flag_after_recheck(anonymous, staff):
    prior = {"body": "区住建局", "case_no": "XF2024000123", "review_stage": "rechecked",
             "same_matter_after_recheck": True}
    flagged = (await file_case(anonymous, is_repeat=True, prior_case=prior))["case"]["case_no"]
    plain = (await file_case(
        anonymous,
        petitioner__id_type="taiwan_permit", petitioner__id_number="12345678",
        petitioner__phone=None, petitioner__contact_type="none",
    ))["case"]["case_no"]
    officer = await staff("officer")
    _, page = await officer.page(f"/console/cases/{flagged}")
    assert 'id="recheck-flag"' in page and "第三十六条" in page and "书面告知是否受理" in page
    _, page = await officer.page(f"/console/cases/{plain}")
    assert 'id="petitioner-id-type">台湾居民来往大陆通行证<' in page
    assert "12345678" not in page
    assert "无电话，按住址书面联系" in page and 'id="recheck-flag"' not in page
