/// Word lists for demo names. Changing or reordering them changes what every seed
/// produces, so append only when needed and expect demo data to change when you do.
enum DemoNames {
    /// Community 社区 name stems ("幸福" → 幸福社区).
    static let communityStems = [
        "幸福", "和平", "光明", "新华", "友谊", "团结", "建设", "胜利", "解放", "人民",
        "前进", "东风", "朝阳", "红旗", "长青", "振兴", "文化", "新民", "兴华", "安康",
        "永安", "康乐", "民主", "迎宾", "滨江", "凤凰", "翠湖", "金桥", "锦江", "春华",
    ]

    /// Estate 小区 names.
    static let estates = [
        "阳光花园", "锦绣家园", "丽景苑", "翠竹园", "金色家园", "碧水湾", "书香门第", "幸福里",
        "和谐家园", "紫荆苑", "桂花园", "玉兰苑", "银杏小区", "明珠花园", "怡景苑", "春晖园",
        "绿城花园", "东方名苑", "御景园", "华庭苑", "枫林小区", "梧桐苑", "长安小区", "清水湾",
        "瑞祥家园", "新城佳苑", "滨河花园", "翡翠城", "天鹅湖小区", "龙湾小区", "香榭里", "康桥苑",
        "嘉和园", "铁路新村", "纺织厂宿舍", "教师新村", "电力小区", "工人新村", "南苑小区", "北辰花园",
    ]

    static let surnames = [
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
        "郭", "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    ]

    static let givenNames = [
        "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
        "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "建国", "志强", "海燕", "淑珍", "玉兰",
        "春梅", "晓东", "文华", "红梅", "国庆", "子涵", "雨萱", "浩然", "思远", "丽华", "德明", "秀兰",
    ]

    /// 一 … 十, for 第一网格 and for telling apart communities that share a stem.
    static func numeral(_ n: Int) -> String {
        let digits = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"]
        switch n {
        case 0...9: return digits[n]
        case 10: return "十"
        case 11...19: return "十" + digits[n - 10]
        case 20...99: return digits[n / 10] + "十" + (n % 10 == 0 ? "" : digits[n % 10])
        default: return String(n)
        }
    }
}
