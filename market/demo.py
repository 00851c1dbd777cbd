"""Demo data for `market demo`: one organization per role with realistic names and valid credit
codes, and a login for each role. Idempotent: running it again changes nothing that exists.

The organizations are fictional stand-ins shaped like the real parties of a city's authorized
operation of public data (a health commission holding data, a data bureau granting authorization,
a state-owned operator, an insurer buying, the provincial data bureau overseeing, the exchange).
"""

from __future__ import annotations

import importlib

from market import db, identity
from market.config import Settings
from market.context import Actor, acting_as
from market.tables import Organization

# (credit code, name, kind) — check characters computed with GB 32100 / GB 11714 (see tests)
ORGS = {
    "holder": ("113301000024701292", "杭州市卫生健康委员会", "government"),
    "agency": ("11330100002471885T", "杭州市数据资源管理局", "government"),
    "operator": ("91330100328456191F", "杭州城市大数据运营有限公司", "enterprise"),
    "buyer": ("91330106572134901G", "浙江安诚财产保险股份有限公司", "enterprise"),
    "regulator": ("11330000002465338J", "浙江省数据局", "government"),
    "admin": ("91330100342910872R", "杭州数据交易所有限公司", "platform"),
    "institution": ("12330100470053123P", "杭州市疾病预防控制中心", "institution"),
    # the departments whose data the catalogue lists (holders of public data)
    "market_supervision": ("11330100002472335G", "杭州市市场监督管理局", "government"),
    "ecology": ("11330100002473055Q", "杭州市生态环境局", "government"),
    "statistics": ("113301000024741708", "杭州市统计局", "government"),
    "medical_insurance": ("11330100002475229U", "杭州市医疗保障局", "government"),
    "housing_fund": ("12330100470054871M", "杭州住房公积金管理中心", "institution"),
    "housing": ("11330100002476344B", "杭州市住房保障和房产管理局", "government"),
    "education": ("11330100002477494D", "杭州市教育局", "government"),
    "meteorology": ("11330100002478569N", "杭州市气象局", "government"),
}

# (e-mail, display name, organization key, roles)
USERS = [
    ("holder@demo.cn", "张明", "holder", ["holder"]),
    ("buyer@demo.cn", "李娜", "buyer", ["buyer"]),
    ("operator@demo.cn", "王强", "operator", ["operator", "holder"]),
    ("agency@demo.cn", "陈静", "agency", ["agency"]),
    ("regulator@demo.cn", "刘洋", "regulator", ["regulator"]),
    ("admin@demo.cn", "赵磊", "admin", ["admin"]),
    ("cdc@demo.cn", "周婷", "institution", ["holder"]),
    ("scjg@demo.cn", "吴昊", "market_supervision", ["holder"]),
    ("sthj@demo.cn", "郑洁", "ecology", ["holder"]),
    ("tjj@demo.cn", "孙磊", "statistics", ["holder"]),
    ("ybj@demo.cn", "钱芳", "medical_insurance", ["holder"]),
    ("gjj@demo.cn", "冯涛", "housing_fund", ["holder"]),
    ("fgj@demo.cn", "蒋敏", "housing", ["holder"]),
    ("jyj@demo.cn", "沈浩", "education", ["holder"]),
    ("qxj@demo.cn", "韩雪", "meteorology", ["holder"]),
]

# Packages that add their own demo content later (listings, products…) expose `async def load_demo()`.
DEMO_MODULES = ["listings.demo", "operators.demo", "contracts.demo", "billing.demo"]


async def load(settings: Settings) -> list[str]:
    lines: list[str] = []
    with acting_as(Actor(label="demo")):
        org_ids: dict[str, int] = {}
        user_ids: dict[str, int] = {}
        for key, (code, name, kind) in ORGS.items():
            async with db.atomic():
                row = await Organization.select(Organization.id).where(Organization.credit_code == code).first()
                if row is None:
                    row = await identity.create_organization(name=name, credit_code=code, kind=kind, verified=True)
                    lines.append(f"organization {name} ({code})")
            org_ids[key] = row["id"]
        for email, display, org_key, roles in USERS:
            user = await identity.find_user(email)
            if user is None:
                user = await identity.create_user(email=email, password=settings.demo_password, display_name=display,
                                                  organization_id=org_ids[org_key], roles=roles)
                lines.append(f"user {email} / {settings.demo_password} ({', '.join(roles)})")
            user_ids.setdefault(org_key, user["id"])
        for module_name in DEMO_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name == module_name:
                    continue
                raise
            lines.extend(await module.load_demo(settings, org_ids, user_ids) or [])
    if not lines:
        lines.append("demo data already present; nothing to do")
    return lines
