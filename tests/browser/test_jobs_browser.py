"""定时任务 in a real browser: create an executor, create a CRON job with the cron helper showing the next
fire times, start it, run it once, see the pending run in the log list, stop it, copy it, delete the copy."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pcloud.extensions import db
from pcloud.jobs.models import Executor, Job, JobRun
from tests.browser.conftest import confirm_modal, settle, sign_in, watch_console
from tests.factories import query


def _job_id(app: Any, desc: str) -> int:
    return query(app, lambda: db.session.execute(
        select(Job.id).where(Job.job_desc == desc, Job.deleted_at.is_(None))).scalar_one())


def _row_action(page: Any, job_id: int, name: str, more: bool = False) -> None:
    row = page.locator(f'tr[data-job-id="{job_id}"]')
    if more:
        row.get_by_role("button", name="更多").click()
    row.get_by_role("button", name=name, exact=True).click()


def test_executor_job_run_once_and_copy(page: Any, app: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # the schedule helper answers 422 while the expression is wrong (the test types a wrong one on purpose)
    page.on("console", lambda msg: errors.append(f"{msg.text} {msg.location.get('url')}")
            if msg.type == "error" and "favicon.ico" not in (msg.location.get("url") or "")
            and not ("status of 422" in msg.text and "/job/info/next-times" in (msg.location.get("url") or ""))
            else None)
    sign_in(page)

    # an executor
    page.get_by_role("link", name="执行器管理").click()
    settle(page, "**/job/group/")
    page.get_by_role("link", name="新增执行器").click()
    settle(page, "**/job/group/new**")
    page.locator("#appname").fill("browser-app")
    page.locator("#title").fill("浏览器执行器")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("执行器「浏览器执行器」已创建").wait_for()

    # a CRON job; the helper shows what is wrong, then the next five fire times
    page.get_by_role("link", name="任务管理").click()
    settle(page, "**/job/info/")
    page.get_by_role("link", name="新增任务").click()
    settle(page, "**/job/info/new**")
    page.locator("#job_group").select_option(label="浏览器执行器（browser-app）")
    page.locator("#job_desc").fill("浏览器任务")
    page.locator("#author").fill("测试员")
    page.locator("#executor_handler").select_option("demoJobHandler")
    page.locator("#schedule_conf").fill("")
    page.locator("#schedule_conf").press_sequentially("0 0 12 * *", delay=10)
    page.locator("#next-times-error").get_by_text("6 或 7 个字段").wait_for()
    page.locator("#schedule_conf").press_sequentially(" ?", delay=10)
    page.locator("#next-times li").nth(4).wait_for()
    times = page.locator("#next-times li").all_inner_texts()
    assert len(times) == 5 and all(t.endswith("12:00:00") for t in times)
    assert page.locator("#next-times-error").inner_text() == ""
    page.get_by_role("button", name="保存").click()
    page.get_by_text("任务「浏览器任务」已创建").wait_for()
    job = _job_id(app, "浏览器任务")
    row = page.locator(f'tr[data-job-id="{job}"]')
    assert row.get_by_test_id("status").inner_text() == "停止"

    # start it
    _row_action(page, job, "启动")
    confirm_modal(page)
    page.get_by_text("任务「浏览器任务」已启动").wait_for()
    assert row.get_by_test_id("status").inner_text() == "运行"
    assert query(app, lambda: db.session.get(Job, job).trigger_next_time) > 0

    # run it once with a parameter
    row.get_by_role("button", name="执行一次").click()
    page.locator("#triggerModal").wait_for(state="visible")
    page.locator("#executor_param").fill("hello from the browser")
    page.locator("#trigger-ok").click()
    page.get_by_text("已提交执行").wait_for()

    # the pending run in the log list
    _row_action(page, job, "更多", more=False)
    row.get_by_role("link", name="查询日志").click()
    settle(page, "**/job/log/*")
    run_row = page.locator("#log-table tbody tr").first
    assert run_row.get_by_test_id("run-state").inner_text() == "等待执行"
    assert "手动触发" in run_row.inner_text() and "浏览器任务" in run_row.inner_text()
    run = query(app, lambda: db.session.execute(select(JobRun).where(JobRun.job_id == job)).scalar_one())
    assert (run.status, run.executor_param) == ("PENDING", "hello from the browser")

    # stop it, copy it, delete the copy
    page.get_by_role("link", name="任务管理").click()
    settle(page, "**/job/info/")
    _row_action(page, job, "停止")
    confirm_modal(page)
    page.get_by_text("任务「浏览器任务」已停止").wait_for()
    assert row.get_by_test_id("status").inner_text() == "停止"
    _row_action(page, job, "复制", more=True)
    confirm_modal(page)
    page.get_by_text("已复制为「浏览器任务 (副本)」（已停止）").wait_for()
    copy = _job_id(app, "浏览器任务 (副本)")
    _row_action(page, copy, "删除", more=True)
    confirm_modal(page)
    page.get_by_text("任务「浏览器任务 (副本)」已删除").wait_for()
    assert page.locator(f'tr[data-job-id="{copy}"]').count() == 0
    assert page.locator(f'tr[data-job-id="{job}"]').count() == 1
    assert errors == []


def test_export_then_import_with_a_dry_run(page: Any, app: Any, tmp_path: Any) -> None:
    """Issue 23 (4): the job list exports the ticked job, the import dialog checks the file first (the conflicts
    table), then imports; the list's head fits a phone and a desktop."""
    import json

    from tests.browser.conftest import watch_console
    from tests.factories import make_executor, make_job

    group = make_executor(app, "browser-app")
    job = make_job(app, group, "浏览器导出任务")
    make_job(app, group, "不导出的任务")
    errors = watch_console(page)
    sign_in(page)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/job/info/?jobGroup={group}")
        page.wait_for_load_state("load")
        box = page.get_by_role("button", name="导入").bounding_box()
        assert box and box["x"] + box["width"] <= width, (width, box)
    page.locator(f'tr[data-job-id="{job}"] input[name="ids"]').check()
    with page.expect_download() as download:
        page.get_by_role("button", name="导出选中").click()
    doc = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert [j["jobDesc"] for j in doc["jobs"]] == ["浏览器导出任务"]

    file = tmp_path / "jobs.json"
    file.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    page.get_by_role("button", name="导入").click()
    page.locator("#importModal").wait_for(state="visible")
    page.locator("#importModal input[type=file]").set_input_files(str(file))
    assert page.locator("#importModal input[type=checkbox]").is_checked()  # a dry run by default
    page.locator("#import-ok").click()
    settle(page, "**/job/info/import")
    page.get_by_text("导入检查结果").wait_for()
    assert "浏览器导出任务" in page.locator("#import-conflicts").inner_text()

    doc["executors"][0]["appname"] = "browser-copy"
    doc["jobs"][0]["appname"] = "browser-copy"
    file.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    page.get_by_role("button", name="重新选择文件").click()
    page.locator("#importModal").wait_for(state="visible")
    page.locator("#importModal input[type=file]").set_input_files(str(file))
    page.locator("#importModal input[type=checkbox]").uncheck()
    page.locator("#import-ok").click()
    settle(page, f"**/job/info/?jobGroup={group}")  # back to the list as it was left, through the report page
    page.get_by_text("已导入").wait_for()
    assert errors == []


def test_a_script_job_is_edited_with_line_numbers_diffed_and_rolled_back(page: Any, app: Any) -> None:
    """GLUE (issue 23): a shell job from the form, its script typed in the editor (CodeMirror, served from our
    static folder) with a remark, the versions listed, a diff between two, a rollback; at 1280 and 390 px."""
    from pcloud.jobs.models import JobGlueVersion

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    external: list[str] = []
    page.on("request", lambda req: external.append(req.url) if "127.0.0.1" not in req.url
            and "localhost" not in req.url and not req.url.startswith("data:") else None)
    page.set_viewport_size({"width": 1280, "height": 900})

    def executor() -> int:
        from pcloud.jobs import service

        return service.create_executor({"appname": "glue-browser", "title": "脚本执行器", "address_type": 0}).id

    query(app, executor)
    sign_in(page)
    page.goto("/job/info/new")
    page.locator("#job_group").select_option(label="脚本执行器（glue-browser）")
    page.locator("#job_desc").fill("脚本任务")
    page.locator("#author").fill("测试员")
    page.locator("#schedule_type").select_option("NONE")
    page.locator("#glue_type").select_option("GLUE_SHELL")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("任务「脚本任务」已创建").wait_for()
    job = _job_id(app, "脚本任务")
    _row_action(page, job, "更多")
    page.locator(f'tr[data-job-id="{job}"]').get_by_role("link", name="脚本编辑（GLUE IDE）").click()
    settle(page, f"**/job/info/{job}/code")
    page.locator(".CodeMirror-linenumber").first.wait_for()
    page.locator(".CodeMirror").click()
    page.keyboard.press("Control+End")
    page.keyboard.type('echo "from the browser $1"\n')
    page.locator("#glue_remark").fill("加一行 echo")
    page.get_by_role("button", name="保存为新版本").click()
    page.get_by_text("脚本已保存为版本").wait_for()
    source = query(app, lambda: db.session.get(Job, job).glue_source)
    assert 'echo "from the browser $1"' in source and source.startswith("#!/bin/sh")
    rows = page.locator("#glue-versions tbody tr")
    assert rows.count() == 2 and "加一行 echo" in rows.nth(0).inner_text() and "当前" in rows.nth(0).inner_text()
    rows.nth(1).get_by_role("link", name="对比当前").click()
    settle(page, f"**/job/info/{job}/code/diff*")
    assert page.locator("#glue-diff .diff-add").first.inner_text().startswith('+echo "from the browser')
    page.get_by_role("link", name="返回脚本编辑").click()
    settle(page, f"**/job/info/{job}/code")
    page.locator("#glue-versions tbody tr").nth(1).get_by_role("button", name="回滚").click()
    confirm_modal(page)
    page.get_by_text("已回滚").wait_for()
    assert "from the browser" not in query(app, lambda: db.session.get(Job, job).glue_source)
    assert query(app, lambda: db.session.query(JobGlueVersion).filter_by(job_id=job).count()) == 3
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator(".CodeMirror").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert external == [] and errors == []


def test_the_job_scripts_speak_english(page: Any, app: Any) -> None:
    """jobs.js in English (issue 24 item 10): the cron helper's note and the run-once dialog's title come from the
    `js` catalogue the page hands over."""
    from pcloud.jobs.models import Executor

    errors = watch_console(page)
    with app.app_context():
        executor = Executor(appname="english-browser", title="English browser")
        db.session.add(executor)
        db.session.flush()
        job = Job(job_group=executor.id, job_desc="English browser job", author="Eve", schedule_type="CRON",
                  schedule_conf="0 0 12 * * ?", timezone="UTC", executor_handler="demoJobHandler")
        db.session.add(job)
        db.session.commit()
        executor_id, job_id = executor.id, job.id
    sign_in(page)
    page.goto("/language/en?next=/job/info/new")
    settle(page, "**/job/info/new")
    page.locator("#schedule_type").select_option("NONE")
    page.locator("#next-times-error").get_by_text("Manual runs only: no scheduled fire times").wait_for()
    page.goto(f"/job/info/?jobGroup={executor_id}")
    page.locator(f'tr[data-job-id="{job_id}"]').get_by_role("button", name="Run once", exact=True).click()
    page.locator("#trigger-desc").get_by_text(f'Job "English browser job" (#{job_id})').wait_for()
    assert not errors, errors


def test_the_keyboard_can_leave_the_script_editor(page: Any, app: Any) -> None:
    """A browser review: in the script editor Tab, Shift+Tab and Esc all stayed in it (Tab typed a tab into the
    script), so a keyboard user could reach neither the remark nor 保存为新版本; and the editor's input had no name
    for a screen reader. Tab still indents; Esc then Tab (or Shift+Tab) moves on, as the hint under it says."""
    from pcloud.jobs import service

    def script_job() -> int:
        executor = service.create_executor({"appname": "glue-keyboard", "title": "键盘执行器", "address_type": 0})
        return service.create_job({"job_group": executor.id, "job_desc": "键盘脚本", "author": "测试员",
                                   "schedule_type": "NONE", "glue_type": "GLUE_SHELL",
                                   "glue_source": "#!/bin/sh\necho hi\n"}).id

    errors = watch_console(page)
    job = query(app, script_job)
    sign_in(page)
    page.goto(f"/job/info/{job}/code")
    page.locator(".CodeMirror-linenumber").first.wait_for()
    field = page.locator(".CodeMirror textarea")
    assert field.get_attribute("aria-label") == "脚本"
    assert field.get_attribute("aria-describedby") == "glue-keys"
    assert "Esc" in page.locator("#glue-keys").inner_text()
    page.locator(".CodeMirror").click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Tab")  # indents, as in any code editor
    assert page.evaluate("document.activeElement.closest('.CodeMirror') !== null")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "glue_remark"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.closest('.CodeMirror') !== null")
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.closest('.CodeMirror') === null")
    page.keyboard.type("x")  # what follows an Esc and a key other than Tab is typed in the editor again
    page.locator(".CodeMirror").click()
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.CodeMirror') !== null")
    assert not errors, errors


def _job_without_nodes(app: Any, appname: str) -> int:
    """A job of a new executor no worker serves (an empty 注册节点 page): its id."""
    from pcloud.jobs.models import Executor

    with app.app_context():
        executor = Executor(appname=appname, title=appname)
        db.session.add(executor)
        db.session.flush()
        job = Job(job_group=executor.id, job_desc=f"{appname} job", author="Eve", schedule_type="NONE",
                  timezone="UTC", executor_handler="demoJobHandler")
        db.session.add(job)
        db.session.commit()
        return job.id


def test_an_empty_list_says_so_within_a_phones_screen(page: Any, app: Any) -> None:
    """A browser review at 390 px: an empty run log's line (还没有调度日志：任务被调度或「执行一次」后在这里出现) and a
    job's 注册节点 page without a node (…执行 pcloud worker --group …) were cut at the screen's edge, centred in a
    table wider than the phone, so a phone showed half a sentence unless one scrolled the table sideways. The line
    wraps within the screen, in either language."""
    job_id = _job_without_nodes(app, "empty-phone")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    for lang in ("zh", "en"):
        page.goto(f"/language/{lang}?next=/job/log/")
        for path in ("/job/log/", f"/job/info/{job_id}/nodes"):
            page.goto(path)
            # where the line's words are drawn, whatever wraps them
            left, right, text = page.locator("tbody td[colspan]").evaluate(
                "cell => { const r = document.createRange(); r.selectNodeContents(cell);"
                " const b = r.getBoundingClientRect(); return [b.left, b.right, cell.innerText]; }")
            width = page.evaluate("document.documentElement.clientWidth")
            assert text and left >= 0 and right <= width, (lang, path, text, left, right, width)


def test_the_empty_nodes_page_keeps_the_commands_option_whole_on_a_phone(page: Any, app: Any) -> None:
    """A browser review at 390 px: the empty 注册节点 page's command broke between "--" and "group" (and could within
    the AppName at a hyphen), so a phone showed "--" at a line's end. The command is code, its option
    (--group <AppName>) one unbroken piece, in either language."""
    job_id = _job_without_nodes(app, "phone-nodes-executor")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    option = "--group phone-nodes-executor"
    for lang in ("zh", "en"):
        page.goto(f"/language/{lang}?next=/job/log/")
        page.goto(f"/job/info/{job_id}/nodes")
        cell = page.locator("tbody td[colspan]")
        assert cell.locator("code").inner_text().startswith("pcloud worker"), lang
        # the line each character of the option is drawn on: one line
        tops = cell.evaluate(
            """(cell, option) => {
                 const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                 const chars = [];
                 for (let n = walker.nextNode(); n; n = walker.nextNode())
                   for (let i = 0; i < n.data.length; i++) chars.push([n, i]);
                 const text = chars.map(([n, i]) => n.data[i]).join('');
                 const at = text.indexOf(option);
                 if (at < 0) return null;
                 const tops = new Set();
                 for (const [n, i] of chars.slice(at, at + option.length)) {
                   if (n.data[i] === ' ') continue;
                   const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
                   tops.add(Math.round(r.getBoundingClientRect().top));
                 }
                 return [...tops];
               }""", option)
        assert tops is not None and len(tops) == 1, (lang, tops, cell.inner_text())
        width = page.evaluate("document.documentElement.clientWidth")
        right = cell.evaluate("cell => { const r = document.createRange(); r.selectNodeContents(cell);"
                              " return r.getBoundingClientRect().right; }")
        assert right <= width, (lang, right, width)


def test_a_refused_run_once_comes_back_with_its_dialog_open_on_what_was_typed(page: Any, app: Any) -> None:
    """A review: 执行一次 refused (here a node that is not the executor's) led to a page saying 操作未完成, and what was
    typed in the dialog was gone. At a laptop's width the list comes back as it was (its executor, its second page),
    the dialog open on what was typed, the refusal under the field it concerns and that field focused; 取消 leaves the
    list as it was, whose pager still works; corrected, the run goes through and is flashed as before. A keyboard
    review: the dialog closed by Esc left the focus on nothing; it goes back to the row's 执行一次. And the refusal was
    tied to nothing: a screen reader on the focused field heard neither it nor the field's hint."""
    executor_id, (first, *_) = _jobs_to_run(app, "reopen-app", "重开执行器", "重开任务")
    page.set_viewport_size({"width": 1280, "height": 900})
    errors = watch_console(page, form_4xx_expected=True)
    sign_in(page)
    listing = f"/job/info/?jobGroup={executor_id}&size=2&page=2"
    page.goto(listing)
    settle(page, f"**{listing}")
    page.locator(f'tr[data-job-id="{first}"]').get_by_role("button", name="执行一次", exact=True).click()
    dialog = page.locator("#triggerModal")
    dialog.wait_for(state="visible")
    page.locator("#executor_param").fill("保留的参数")
    page.locator("#address_list").fill("node-x")
    page.locator("#trigger-ok").click()
    page.wait_for_load_state("load")
    dialog.wait_for(state="visible")
    expect(dialog.locator("#address_list")).to_be_focused()
    refusal = "节点 node-x 不是执行器「重开执行器」的节点（可选：node-a）"
    assert dialog.locator("#address_list + .invalid-feedback").inner_text() == refusal
    # read with its field by a screen reader, with the field's hint (it was tied to nothing)
    expect(dialog.locator("#address_list")).to_have_accessible_description(f"{refusal} 可选：节点名，逗号分隔")
    expect(dialog.locator("#address_list")).to_have_attribute("aria-invalid", "true")
    assert page.locator("#executor_param").input_value() == "保留的参数"
    assert page.locator("#address_list").input_value() == "node-x"
    assert dialog.locator("#trigger-desc").inner_text() == f"任务「重开任务 0」（#{first}）"
    assert query(app, lambda: db.session.query(JobRun).filter_by(job_id=first).count()) == 0

    # behind it, the list as it was: its executor, its second page
    page.locator("#trigger-ok-cancel").click()
    dialog.wait_for(state="hidden")
    assert page.locator(f'tr[data-job-id="{first}"]').is_visible()
    assert page.locator("select[name=jobGroup]").input_value() == str(executor_id)
    assert "第 2 / 2 页" in page.locator(".pager").inner_text()
    page.locator(".pagination").get_by_role("link", name="1", exact=True).click()
    settle(page, f"**/job/info/?jobGroup={executor_id}&size=2&page=1")

    # opened and closed by the keyboard, the dialog gives the focus back to its button (it was left on nothing)
    page.goto(listing)
    run_once = page.locator(f'tr[data-job-id="{first}"]').get_by_role("button", name="执行一次", exact=True)
    run_once.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#executor_param")).to_be_focused()  # shown
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    expect(run_once).to_be_focused()

    # corrected, it runs, and says so on the list as it was
    run_once.click()
    dialog.wait_for(state="visible")
    page.locator("#address_list").fill("node-a")
    page.locator("#trigger-ok").click()
    page.get_by_text("已提交执行").wait_for()
    assert page.url.endswith(listing)
    assert not errors, errors


def _jobs_to_run(app: Any, appname: str, title: str = "保留执行器", desc: str = "保留任务") -> tuple[int, list[int]]:
    """An executor with node-a and three jobs to run once (`desc` 0, 1, 2): its id and the jobs'."""
    with app.app_context():
        executor = Executor(appname=appname, title=title, address_type=1, address_list="node-a")
        db.session.add(executor)
        db.session.flush()
        jobs = [Job(job_group=executor.id, job_desc=f"{desc} {i}", author="测试员", schedule_type="CRON",
                    schedule_conf="0 0 12 * * ?", timezone="UTC", executor_handler="demoJobHandler")
                for i in range(3)]
        db.session.add_all(jobs)
        db.session.commit()
        return executor.id, [j.id for j in jobs]


def _send_after_the_sign_in_ended(page: Any, app: Any, editor: int) -> None:
    """The editor is forced offline, then the dialog is sent: the sign-in page, saying the input is kept."""
    from pcloud.users import service as users

    with app.app_context():
        users.force_offline(editor, None)
        db.session.remove()
    page.locator("#trigger-ok").click()
    page.wait_for_url("**/login?next=**")
    expect(page.get_by_test_id("kept-input-waiting")).to_be_visible()


def _type_a_run_once(page: Any, listing: str, job: int) -> Any:
    page.goto(listing)
    settle(page, f"**{listing}")
    page.locator(f'[data-trigger-job="{job}"]').click()
    dialog = page.locator("#triggerModal")
    dialog.wait_for(state="visible")
    page.locator("#executor_param").fill("留着的参数")
    page.locator("#address_list").fill("node-a")
    return dialog


def _sign_in_again(page: Any, phone: str) -> None:
    page.wait_for_url("**/login?next=**")
    page.locator("#pw-phone").fill(phone)
    page.locator("#pw-password").fill("Passw0rd1")
    page.locator("#login-password").click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))
    page.wait_for_load_state("load")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_run_once_sent_after_the_sign_in_ended_comes_back_as_typed(page: Any, app: Any, lang: str) -> None:
    """The 执行一次 dialog's parameter and nodes, sent after the sign-in ended: kept, but signed in again the user was
    on the job list with the dialog closed and what was typed nowhere (the script sets the dialog's address per row,
    so no form of the page matched the one kept). Signed in again as the same user, the list opens the dialog on the
    same job with what was typed and the notice the other forms give, not sent until sent."""
    from tests.factories import make_user

    executor_id, jobs = _jobs_to_run(app, f"kept-run-{lang}")
    editor = make_user(app, phone=f"139000027{31 if lang == 'zh' else 32}", password="Passw0rd1", name="执行甲",
                       role_codes=("ROLE_SUPER_ADMIN",))
    errors = watch_console(page, form_4xx_expected=True)
    sign_in(page, f"139000027{31 if lang == 'zh' else 32}", "Passw0rd1")
    if lang == "en":
        page.goto("/language/en?next=/")
        page.wait_for_load_state("load")
    listing = f"/job/info/?jobGroup={executor_id}&size=20"
    dialog = _type_a_run_once(page, listing, jobs[1])
    _send_after_the_sign_in_ended(page, app, editor)
    _sign_in_again(page, f"139000027{31 if lang == 'zh' else 32}")
    assert page.url.endswith(listing)
    dialog.wait_for(state="visible")
    desc = f"任务「保留任务 1」（#{jobs[1]}）" if lang == "zh" else f'Job "保留任务 1" (#{jobs[1]})'
    expect(dialog.locator("#trigger-desc")).to_have_text(desc)
    assert page.locator("#executor_param").input_value() == "留着的参数"
    assert page.locator("#address_list").input_value() == "node-a"
    note = dialog.get_by_test_id("kept-input-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("登录已失效，未能提交" if lang == "zh" else "Your sign-in had ended")
    assert query(app, lambda: db.session.query(JobRun).filter(JobRun.job_id.in_(jobs)).count()) == 0  # not sent

    with page.expect_navigation():
        page.locator("#trigger-ok").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(listing) and not dialog.is_visible()
    runs = query(app, lambda: [(r.job_id, r.executor_param) for r in db.session.query(JobRun).filter(
        JobRun.job_id.in_(jobs))])
    assert runs == [(jobs[1], "留着的参数")]
    page.goto(listing)  # given back once
    page.wait_for_load_state("load")
    assert not dialog.is_visible() and page.get_by_test_id("kept-input-note").count() == 0
    assert not errors, errors


def test_a_refused_run_once_sent_after_the_sign_in_ended_comes_back_on_its_list(page: Any, app: Any) -> None:
    """A run once refused (a node of no executor) is shown again under its POST's address, whose GET is the list: sent
    again, corrected, after the sign-in ended, the sign-in page led back there, the list, where nothing matched the
    page it was kept for. It is given back on that list (the dialog's data-kept-on), for the same job."""
    from tests.factories import make_user

    executor_id, jobs = _jobs_to_run(app, "kept-run-refused")
    editor = make_user(app, phone="13900002735", password="Passw0rd1", name="执行丁", role_codes=("ROLE_SUPER_ADMIN",))
    errors = watch_console(page, form_4xx_expected=True)
    sign_in(page, "13900002735", "Passw0rd1")
    listing = f"/job/info/?jobGroup={executor_id}&size=20"
    dialog = _type_a_run_once(page, listing, jobs[2])
    page.locator("#address_list").fill("node-x")
    page.locator("#trigger-ok").click()
    page.wait_for_url(f"**/job/info/{jobs[2]}/trigger?**")
    page.wait_for_load_state("load")
    dialog.locator("#address_list + .invalid-feedback").wait_for()
    page.locator("#address_list").fill("node-a")
    _send_after_the_sign_in_ended(page, app, editor)
    _sign_in_again(page, "13900002735")
    assert page.url.endswith(listing)
    dialog.wait_for(state="visible")
    expect(dialog.locator("#trigger-desc")).to_have_text(f"任务「保留任务 2」（#{jobs[2]}）")
    assert page.locator("#executor_param").input_value() == "留着的参数"
    assert page.locator("#address_list").input_value() == "node-a"
    expect(dialog.get_by_test_id("kept-input-note")).to_be_visible()
    with page.expect_navigation():
        page.locator("#trigger-ok").click()
    runs = query(app, lambda: [(r.job_id, r.executor_param) for r in db.session.query(JobRun).filter(
        JobRun.job_id.in_(jobs))])
    assert runs == [(jobs[2], "留着的参数")]
    assert not errors, errors


def test_a_run_once_kept_is_not_shown_to_the_next_user_who_signs_in(page: Any, app: Any) -> None:
    """The session expired while typing into the 执行一次 dialog; someone else signs in on that browser: the list,
    the dialog closed, what was typed gone, for them and for the first user afterwards."""
    from sqlalchemy import update

    from pcloud.core.timefmt import utcnow
    from pcloud.sessions.models import UserSession
    from tests.factories import make_user

    executor_id, jobs = _jobs_to_run(app, "kept-run-other")
    first = make_user(app, phone="13900002733", password="Passw0rd1", name="执行乙", role_codes=("ROLE_SUPER_ADMIN",))
    make_user(app, phone="13900002734", password="Passw0rd1", name="执行丙", role_codes=("ROLE_SUPER_ADMIN",))
    errors = watch_console(page, form_4xx_expected=True)
    sign_in(page, "13900002733", "Passw0rd1")
    listing = f"/job/info/?jobGroup={executor_id}"
    dialog = _type_a_run_once(page, listing, jobs[1])

    def expire() -> None:
        db.session.execute(update(UserSession).where(UserSession.user_id == first)
                           .values(expires_at=utcnow().replace(year=2000)))
        db.session.commit()

    query(app, expire)
    page.locator("#trigger-ok").click()
    _sign_in_again(page, "13900002734")
    assert page.url.endswith(listing)
    assert not dialog.is_visible() and page.get_by_test_id("kept-input-note").count() == 0
    assert "留着的参数" not in page.evaluate("JSON.stringify(sessionStorage)")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login")
    sign_in(page, "13900002733", "Passw0rd1")
    page.goto(listing)
    page.wait_for_load_state("load")
    assert not dialog.is_visible() and page.get_by_test_id("kept-input-note").count() == 0
    assert query(app, lambda: db.session.query(JobRun).filter(JobRun.job_id.in_(jobs)).count()) == 0
    assert not errors, errors


# The run report's chart as a reader sees it: the one chart shown, the size its axis and legend labels are drawn at
# (their font size times the drawing's scale), whether two level x labels run into each other, where it lies.
_REPORT_CHART = """() => {
  const shown = [...document.querySelectorAll('#job-chart svg')].filter(s => s.getBoundingClientRect().width > 0);
  const svg = shown[0], box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('.axis text, .legends text')].filter(t => t.textContent.trim());
  const scale = t => { const m = t.getScreenCTM(); return Math.hypot(m.a, m.b); };
  const sizes = texts.map(t => parseFloat(getComputedStyle(t).fontSize) * scale(t));
  const level = [...svg.querySelectorAll('.axis.x text')].filter(t => !t.hasAttribute('transform'))
    .map(t => t.getBoundingClientRect());
  return {charts: shown.length, smallest: Math.min(...sizes), left: box.left, right: box.right,
          overlapping: level.some((r, i) => i > 0 && r.left < level[i - 1].right),
          named: svg.querySelectorAll('.axis.x text').length, page: document.documentElement.scrollWidth};
}"""


@pytest.mark.parametrize("width", [1280, 1024, 992, 800, 768, 390])
def test_the_run_report_chart_reads_at_a_laptops_and_a_phones_width(page: Any, width: int) -> None:
    """A review: on a 390 px phone the run report's chart was its 900 px drawing shrunk to the screen, every label
    about 4 px tall. A later review: from 768 px to about 1050 px (a tablet, a small laptop: the page's content
    700-770 px wide, the sidebar shown from 992 px) it was that 900 px drawing shrunk to about 9 px. At each width,
    for the last week and the last 30 days, one chart is shown, its axis and legend labels drawn at 10 px or more and
    none over another, within the page, which does not scroll sideways; the phone's names at most 7 days (a week,
    each of them)."""
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page)
    sign_in(page)
    page.goto("/job/report")
    page.wait_for_load_state("load")
    for days in (7, 30):
        if days == 30:
            page.get_by_role("link", name="最近 30 天").click()
            settle(page, "**/job/report?start=*")
        chart = page.evaluate(_REPORT_CHART)
        assert chart["charts"] == 1, chart
        assert chart["smallest"] >= 10, chart
        assert not chart["overlapping"], chart
        assert chart["left"] >= 0 and chart["right"] <= width and chart["page"] <= width, chart
        if width < 768:
            assert chart["named"] <= 7 and (days != 7 or chart["named"] == 7), chart
    assert not errors, errors


def test_the_run_report_gives_a_screen_reader_its_figures(page: Any) -> None:
    """A screen-reader review: the run report's chart was heard as one image named by its axis labels, its figures
    nowhere but in a table folded under it without a caption. The chart is hidden from the accessibility tree; the
    toggle under it shows its figures as a table named by its caption, each day a row header, then the totals."""
    sign_in(page)
    page.goto("/job/report")
    main = page.get_by_role("main")
    expect(main.get_by_role("img")).to_have_count(0)
    main.get_by_text("以表格查看图表的数据").click()
    table = main.get_by_role("table", name=re.compile(r"^\d{4}-\d\d-\d\d 至 \d{4}-\d\d-\d\d 每日的运行次数"))
    expect(table).to_be_visible()
    expect(table.get_by_role("columnheader")).to_have_text(["日期", "成功", "失败", "运行中"])
    expect(table.get_by_role("rowheader")).to_have_count(8)  # seven days and the totals
    expect(table.get_by_role("rowheader").last).to_have_text("合计")
