"""Chinese an English page of one i18n group still shows because another group's part renders it, until the
branches of issue 24 item 10 are merged: the sidebar's menu names (i18n-grants: sys_menu.name_en), the shared
macros and layouts (i18n-core: filter bar, pager, confirm dialog, the form heading's "：", the save buttons),
the dictionaries' labels (i18n-registers), and what auth and the recorder say and store (i18n-core: the
welcome flash, 登录成功, 操作成功). `english_leftovers` leaves exactly those out; after the merge,
`chinese_on_page` alone should hold, so this module can go."""

from __future__ import annotations

import re

from tests.conftest import chinese_on_page

_SIDEBAR = re.compile(r'<aside\b[^>]*\bid="sidebar".*?</aside>', re.S)
_PAGER_TOTAL = re.compile(r"共 \d+ 条，第 \d+ / \d+ 页|>筛选（\d+）<")
_WELCOME = re.compile(r"欢迎回来，[^<]*")  # the sign-in's flash, with the name the user had then
# Whole texts, never a part of this group's own strings (each is checked on its own element or attribute).
ELSEWHERE = ('>筛选<', '>查询<', '>重置<', '>跳转<', '>上一页<', '>下一页<', '>跳至<', '条/页<',
             'aria-label="分页"', 'aria-label="每页条数"', 'aria-label="页码"', 'aria-label="关闭"', '>取消<',
             '>确定<', 'data-busy="保存中…">保存<', '>暂无数据<', '：', '登录成功', '操作成功')


def english_leftovers(html: str, also: tuple[str, ...] = ()) -> list[str]:
    """`chinese_on_page` less what other groups render (see the module); `also`: more such texts on this page
    (a dictionary's labels)."""
    rest = _WELCOME.sub("", _PAGER_TOTAL.sub("", _SIDEBAR.sub("", html)))
    for text in (*ELSEWHERE, *also):
        rest = rest.replace(text, "")
    return chinese_on_page(rest)
