"""Imports every module's models so mappers resolve and Alembic sees the whole schema."""

from pcloud.access.models import PermissionVersion, role_menu, role_resource
from pcloud.actionlog.models import ActionLog
from pcloud.auth.models import LoginLock, SmsCode
from pcloud.core.models import SubmittedForm
from pcloud.depts.models import Dept, DeptClosure
from pcloud.dicts.models import DictData, DictType
from pcloud.grades.models import Grade
from pcloud.jobs.models import Executor, Job, JobRegistry, JobReport, JobRun, JobRunLine
from pcloud.loginlog.models import LoginLog
from pcloud.mail.models import Mail
from pcloud.menus.models import Menu
from pcloud.notices.models import Notice, NoticeRead, notice_dept, notice_role
from pcloud.openplatform.models import OpenAccount, open_account_role
from pcloud.params.models import Parameter, SettingVersion
from pcloud.posts.models import Post
from pcloud.resources.models import Resource
from pcloud.roles.models import Role
from pcloud.segments.models import Segment
from pcloud.sessions.models import UserSession
from pcloud.smstemplates.models import SmsTemplate
from pcloud.uploads.models import Storage, Upload
from pcloud.users.models import User, UserTally, user_role

__all__ = ["ActionLog", "Dept", "DeptClosure", "Executor", "Grade", "Job", "JobRun", "JobRunLine", "JobRegistry",
           "JobReport", "LoginLock", "LoginLog", "Mail", "Menu", "OpenAccount", "PermissionVersion", "Post",
           "Resource", "Role", "Segment", "SmsCode", "SmsTemplate", "Upload", "User", "UserSession", "UserTally",
           "open_account_role", "Notice", "NoticeRead", "notice_dept", "notice_role", "Storage",
           "role_menu", "role_resource", "user_role",
           "DictData", "DictType", "Parameter", "SettingVersion", "SubmittedForm"]
