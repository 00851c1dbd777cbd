"""The one exception the reading stage raises, with its Chinese plain-language messages (private to reading)."""

from __future__ import annotations

from market.i18n import N_

MESSAGES = {
    "read.empty": N_("文件是空的，请检查是否选错了文件"),
    "read.no_rows": N_("文件里只有表头，没有数据行，请检查导出时是否漏掉了数据"),
    "read.no_columns": N_("文件里没有找到任何列，请确认上传的是一张表格"),
    "read.encoding": N_("无法识别文件的文字编码（{detail}）。请用 Excel 打开文件，选择“另存为”→“CSV UTF-8（逗号分隔）”后重新上传"),
    "read.format": N_("无法读取这个文件：{what}。请上传 CSV、Excel（xlsx/xls）、JSON 或 GeoJSON 格式的表格"),
    "read.malformed": N_("第 {line} 行附近的格式有误（{detail}），常见原因是单元格里有没有配对的英文引号。请用 Excel 打开后另存为 xlsx 或“CSV UTF-8”再上传"),
    "read.too_large": N_("文件太大（{size}），超过了 {limit} 的上限，请拆分成几个文件后再上传"),
    "read.json_too_large": N_("JSON 文件太大（{size}），JSON 格式最多支持 {limit}。请把数据导出为 CSV 后再上传，CSV 支持大得多的文件"),
    "read.json_shape": N_("JSON 文件的结构无法转成表格：{detail}。需要“对象数组”（如 [{{\"名称\": \"…\"}}, …]）或 GeoJSON 的 FeatureCollection"),
    "read.xls_corrupt": N_("这个 Excel（.xls）文件已损坏或不完整，无法打开。请用 Excel 打开后另存为 xlsx 再上传"),
    "read.xlsx_corrupt": N_("这个 Excel（.xlsx）文件已损坏或没有上传完整，无法打开。请用 Excel 打开确认无误、重新保存后再上传"),
    "read.encrypted": N_("文件设置了打开密码，系统无法读取。请在 Excel 中取消密码后再上传"),
    # limits on user input (listings.reading._limits), each a setting
    "read.too_many_columns": N_("表格有 {columns} 列，超过了 {limit} 列的上限。请删去不需要的列，或把表格按列拆分成几个文件后再上传"),
    "read.line_too_long": N_("第 {line} 行超过了 {limit} 个字符的上限，这通常说明文件不是正常的表格（例如缺少换行符）。请检查文件，或另存为 xlsx 或“CSV UTF-8”后再上传"),
    "read.cell_too_long": N_("第 {line} 行附近有一个单元格超过了 {limit} 个字符的上限。请检查这个单元格（常见原因是英文引号没有配对），或把过长的内容拆开后再上传"),
    "read.too_many_sheets": N_("Excel 文件有 {sheets} 个工作表，超过了 {limit} 个的上限。请只保留要上传的工作表，另存后再上传"),
    "read.xlsx_bomb": N_("这个 Excel（.xlsx）文件解压后的大小异常（{detail}），可能是恶意构造的“压缩炸弹”，系统拒绝读取。请用 Excel 打开后另存为新的 xlsx 或 CSV 再上传"),
    "read.xlsx_unsafe": N_("这个 Excel（.xlsx）文件含有不安全的 XML 内容（{what}），系统拒绝读取。请用 Excel 打开后另存为新的 xlsx 或 CSV 再上传"),
    "read.json_too_deep": N_("JSON 文件的嵌套超过了 {limit} 层的上限，无法转成表格。请把数据整理成“对象数组”（每个对象一行）后再上传"),
    # the budget of the child process that reads and profiles (market.bounded)
    "profile.over_memory": N_("处理这个文件超出了 {limit} 的内存预算，已停止处理，平台的其他服务不受影响。请把文件拆分成几个较小的文件（或减少列数）后再上传"),
    "profile.over_time": N_("处理这个文件超出了 {limit} 的时间预算，已停止处理，平台的其他服务不受影响。请把文件拆分成几个较小的文件后再上传"),
    "profile.crashed": N_("处理这个文件时处理进程意外退出（{detail}），已停止处理，平台的其他服务不受影响。请检查文件是否完整，或拆分后再上传"),
}


class ReadError(Exception):
    """A file the reading stage cannot turn into a table.

    `code` is stable (for the UI and the database). `message` is the Chinese text for the data holder, saying why
    and what to do; like DomainError's it is the msgid *template*, whose `{placeholders}` `params` fills where it
    is shown (`translate(message, **params)`); `text` is the filled-in Chinese.
    """

    def __init__(self, code: str, _template: str | None = None, **params):
        self.code = code
        self.params = {k: str(v) for k, v in params.items()}
        self._template = _template
        self.message = MESSAGES[_template or code]
        self.text = self.message.format(**self.params)
        super().__init__(f"{code}: {self.text}")

    def __reduce__(self):  # keeps code and params when pickled (e.g. across worker processes)
        return (_rebuild, (self.code, self._template, self.params))


def _rebuild(code: str, template: str | None, params: dict) -> ReadError:
    return ReadError(code, template, **params)


def human_size(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} 字节"
