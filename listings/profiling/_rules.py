"""What the profiler knows before it sees data: the storage and semantic types, the thresholds that
decide them, value patterns (valid for Python's re and DuckDB's RE2 alike), column-name hints, surnames."""

from __future__ import annotations

import re
from stdnum.cn import uscc


TYPES = ("integer", "decimal", "date", "datetime", "text", "category", "boolean")
SEMANTIC_TYPES = ("uscc", "resident_id", "mobile", "region_code", "enterprise_name", "person_name", "address",
                  "amount", "year", "longitude", "latitude")
PERSONAL_SEMANTIC = frozenset({"resident_id", "mobile", "person_name", "address"})

TYPE_SHARE = 0.98  # share of non-null values that must parse for a storage type
SEMANTIC_SHARE = 0.60  # share of sampled non-null values that must match for a semantic type
HINTED_SHARE = 0.30  # ... when the column name says what it is (identifiers only)
DETECT_VALUES = 2000  # values of the sample used to decide the semantic type
TYPE_SAMPLE = 4000  # rows of the sample whose parse rates decide the storage type
TOP_K = 10
CATEGORY_FETCH = 1000  # all values of a column with at most this many distinct values are fetched
# Memory and time by design: what Python holds grows with the sample, never with rows × columns. The sample
# is at most SAMPLE_CELLS cells (20,000 rows up to 100 columns, fewer rows for a wider table), and SQL over
# many columns runs in batches, so that a 5,000-column file costs what a long one does, not 5,000².
SAMPLE_CELLS = 2_000_000
SQL_BATCH = 100  # columns per query (DuckDB plans a query of thousands of expressions slowly)
WIDE = 64  # from this many columns, top values are grouped in batches of columns (one query each)
# a column whose sampled values are mostly distinct is grouped keeping only repeated values (_group_repeated) from
# this many rows on; below it the plain grouping costs little
MOSTLY_UNIQUE_ROWS = 50_000

# ~300 most common Chinese surnames (single character), most frequent first, and compound surnames.
COMMON_SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金"
    "石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄"
    "聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶"
    "解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑"
    "郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙", "夏侯", "长孙", "宇文",
                     "司徒", "端木", "独孤", "南宫", "西门", "轩辕", "百里", "呼延", "澹台", "万俟", "申屠", "闻人", "太史",
                     "钟离", "赫连", "公冶", "濮阳", "单于", "东郭", "第五")

UNIT_SUFFIX = r"\s*(亿元|万元|元|年|%|％)$"  # stripped before numbers are parsed

# ---- patterns: valid both for Python's re and DuckDB's RE2 (full match) ------------------------------
_HAN = "一-鿿㐀-䶿"
_PLACE_SUFFIXES = "区县市省镇乡村旗州路街站"


def _han_without(excluded: str) -> str:
    """A character-class body for CJK ideographs minus `excluded` (RE2 has no class subtraction)."""
    parts, start = [], 0x4E00
    for cp in sorted(ord(ch) for ch in excluded):
        if cp > start:
            parts.append(f"{chr(start)}-{chr(cp - 1)}" if cp - 1 > start else chr(start))
        start = cp + 1
    parts.append(f"{chr(start)}-{chr(0x9FFF)}")
    return "".join(parts) + "㐀-䶿"


_NAME_END = _han_without(_PLACE_SUFFIXES)
PATTERNS = {
    "mobile": r"(?:\+?86)?1[3-9][0-9]{9}",
    "resident_id": r"[0-9]{17}[0-9Xx]",
    "uscc": r"[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}",
    "region_code": r"[1-9][0-9]{5}",
    # 2-4 characters: a surname, then given-name characters, the last of which is not a place
    # suffix (丰台区, 常州市, 黄山路 are not people)
    "person_name": "(?:" + "|".join(COMPOUND_SURNAMES) + f")[{_HAN}]?[{_NAME_END}]"
                   + f"|[{''.join(COMMON_SURNAMES)}][{_HAN}]{{0,2}}[{_NAME_END}]",
    # searched (not full-matched): an organisation's name ends with its kind
    # (clinics, offices and public venues too: 预防接种门诊, 卫生服务站, 市场监督管理局, 图书馆 …)
    "enterprise_name": r"(?:公司|集团|厂|合作社|事务所|中心|银行|分行|支行|医院|卫生院|卫生室|学校|大学|学院|研究院|研究所"
                       r"|协会|商会|基金会|商行|幼儿园|小学|中学|委员会|经营部|门市部|营业部|工作室|个体工商户|社区|村委会|居委会|分校"
                       r"|门诊|门诊部|诊所|接种室|接种点|医务室|保健院|保健所|保健站|卫生站|卫生所|服务站|工作站|防疫站|监测站|检测站"
                       r"|药店|药房|局|厅|办公室|办事处|人民政府|法院|检察院|派出所|司法所|税务所|财政所|供电所|图书馆|博物馆|文化馆"
                       r"|纪念馆|体育馆|美术馆|科技馆|档案馆|少年宫|福利院|敬老院|养老院|疗养院|托儿所|救助站|消防站|大队|支队|信用社)"
                       r"(?:[（(][^）)]{1,12}[)）])?$",  # 中国矿业大学（北京）
    # an administrative level followed by a street-level part: 浙江省杭州市西湖区文三路 90 号
    "address": r"[省市区县旗州盟].*(?:路|街|道|巷|弄|号|村|组|镇|乡|楼|室|栋|幢|大厦|小区|花园|苑|社区)",
    "digits": r"[0-9]+",
    # an ID number with a plausible province, century and date (a cheap filter before ric_is_valid)
    "plausible_id": r"[1-8][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]",
    "integer": r"[+-]?[0-9]+",
    "number": r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
    "thousands": r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?",
    "coordinate": r"[+-]?[0-9]{1,3}\.[0-9]{3,}",
}
_RX = {k: re.compile(v) for k, v in PATTERNS.items()}
_RX.update(
    date_like=re.compile(r"[0-9]{4}[-/年.][0-9]{1,2}"),
    datetime_like=re.compile(r"[0-9]{4}[-/年.][0-9]{1,2}.*[0-9]:[0-9]"),
    unit_suffix=re.compile(UNIT_SUFFIX),
)

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                    "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f", "%Y年%m月%d日 %H:%M:%S")

# ---- column-name hints -----------------------------------------------------------------------------
_EN = r"(?:^|[^a-z])(?:{})(?:$|[^a-z])"
HINTS = {
    "resident_id": r"身份证|证件号|身份号码|公民身份|" + _EN.format("id_?card|id_?no|idnumber|sfz"),
    "mobile": r"手机|移动电话|电话|联系方式|" + _EN.format("mobile|phone|tel|cellphone"),
    "uscc": r"统一社会信用代码|信用代码|社会信用|" + _EN.format("uscc|credit_?code"),
    "region_code": r"行政区划|区划代码|区划|行政代码|地区代码|区域代码|" + _EN.format(
        "region_?code|adcode|area_?code|(?:province|city|county|district)_?code"),
    "enterprise_name": r"企业名称|单位名称|机构名称|公司名称|学校名称|医院名称|组织名称|企业|单位|" + _EN.format(
        "company|enterprise|org|organization"),
    "person_name": r"姓名|名字|法定代表人|法人代表|负责人|联系人|户主|申请人|经办人|监护人|持卡人|患者|" + _EN.format(
        "person|full_?name|real_?name|person_?name"),
    "address": r"地址|住址|住所|居住地|户籍地|通讯地|" + _EN.format("address|addr"),
    "amount": r"金额|资本|资金|价格|价款|费用|工资|薪酬|税额|余额|元\)|元）|" + _EN.format("amount|price|money"),
    "year": r"年份|年度|^年$|" + _EN.format("year"),
    "longitude": r"经度|" + _EN.format("lng|lon|long|longitude|x"),
    "latitude": r"纬度|" + _EN.format("lat|latitude|y"),
}
_HINTS = {k: re.compile(v, re.I) for k, v in HINTS.items()}
_CODE_HINT = re.compile(r"代码|编码|编号|标识码|号码|代号|证号|账号|帐号|卡号|邮编|邮政编码|工号|学号|" + _EN.format(
    "code|id|no|number|zip|guid|uuid"), re.I)
_DATE_HINT = re.compile(r"日期|时间|生日|出生|年月日|" + _EN.format("date|time|day|dt"), re.I)
_UNIT_IN_NAME = re.compile(r"[（(]\s*(亿元|万元|元|分)\s*[)）]|(亿元|万元|元)\s*$")
SENSITIVE_HINTS = {
    "health": re.compile(r"病历|诊断|病史|疾病|健康|病情|症状|过敏|体检|就诊|处方|用药|化验|检验结果|残疾|慢性病|血型|既往史"),
    "religion": re.compile(r"宗教|信仰"),
    "biometrics": re.compile(r"指纹|人脸|虹膜|声纹|面部|掌纹|基因|面容|步态|" + _EN.format("face|fingerprint|iris"), re.I),
    "whereabouts": re.compile(r"轨迹|行程|位置|定位|行踪|出行|" + _EN.format("track|trajectory|location"), re.I),
    "bank_card": re.compile(r"银行卡|卡号|银行账号|银行账户|" + _EN.format("card_?no|bank_?card|card_?number"), re.I),
}
_PERSONAL_HINT = re.compile(r"民族|婚姻|籍贯|政治面貌|出生日期|生日|性别|学历|" + _EN.format("gender|birthday|ethnic"), re.I)

# empty and whitespace-only cells are nulls (matched exactly while parsing: trimming every value in
# SQL would cost more than the whole load)
_NULLSTR = "['', ' ', '  ', '   ', '    ', '\t', '　', '　　']"
_BOOL_PAIRS = ({"Y", "N"}, {"YES", "NO"}, {"是", "否"}, {"TRUE", "FALSE"}, {"T", "F"}, {"0", "1"}, {"有", "无"},
               {"√", "×"})
_BIRTH_HINT = re.compile(r"出生|生日|" + _EN.format("birth|birthday|dob"), re.I)
_IDENTIFIER_SEMANTIC = frozenset({"resident_id", "mobile", "person_name"})
# What a row describes decides whether names, addresses and phones in it are personal (see _subject):
# a header naming the person a row is about, ...
_PERSON_SUBJECT_HINT = re.compile(r"姓名|名字|户主|患者|居民|公民|申请人|持卡人|参保人|被保险人|就诊人|学生|职工|员工|"
                                  + _EN.format("full_?name|real_?name|person_?name|patient|resident"), re.I)
# ... a header naming an organisation or one of its attributes, ...
# (people have a 姓名, organisations and places a 名称: 停车场名称, 景区名称)
_ORG_HINT = re.compile(r"(?:机构|单位|企业|公司|医院|学校|门诊|网点|站点|场所|商户|组织|法人|部门|门店|场馆|诊所)"
                       r"(?:名称|全称|简称|地址|住所|电话)|名称$|^(?:单位|机构|企业)$|"
                       + _EN.format("org(?:anization)?_?name|company_?name|institution"), re.I)
# ... and, in an organisation's row, the headers that still hold a person's home or own phone
_HOME_HINT = re.compile(r"住址|家庭|居住|户籍|现住|户口|" + _EN.format("home"), re.I)
_ORG_PHONE_HINT = re.compile(r"(?:单位|机构|办公|咨询|服务|值班|门诊|预约|热线|客服|企业|公司|医院|学校|接种)(?:电话|热线|号码)")
