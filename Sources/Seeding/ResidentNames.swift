/// Word lists and tables for demo residents. As with `DemoNames`, changing or reordering
/// anything here changes what every seed produces.
enum ResidentNames {
    /// Surnames with their approximate share of the population in per mille (the
    /// 2020 household-registration ranking, rounded), so 王, 李 and 张 each come up for about
    /// one person in fourteen and 欧阳 rarely. Two-character surnames are included.
    static let surnames: [(String, Int)] = [
        ("王", 71), ("李", 70), ("张", 67), ("刘", 54), ("陈", 46), ("杨", 31), ("黄", 25), ("赵", 23),
        ("吴", 20), ("周", 19), ("徐", 17), ("孙", 15), ("马", 15), ("朱", 13), ("胡", 13), ("郭", 12),
        ("何", 12), ("林", 11), ("高", 11), ("罗", 11), ("郑", 10), ("梁", 9), ("谢", 8), ("宋", 7),
        ("唐", 7), ("许", 6), ("韩", 6), ("冯", 6), ("邓", 6), ("曹", 6), ("彭", 6), ("曾", 6),
        ("肖", 6), ("田", 5), ("董", 5), ("袁", 5), ("潘", 5), ("于", 5), ("蒋", 5), ("蔡", 5),
        ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 4), ("魏", 4), ("吕", 4), ("丁", 4),
        ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3), ("崔", 3), ("钟", 3), ("谭", 3),
        ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3), ("廖", 3), ("贾", 3), ("夏", 3),
        ("韦", 2), ("付", 2), ("方", 2), ("白", 2), ("邹", 2), ("孟", 2), ("熊", 2), ("秦", 2),
        ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2), ("段", 2), ("雷", 2), ("侯", 2),
        ("龙", 2), ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2), ("顾", 2), ("毛", 2), ("郝", 2),
        ("龚", 2), ("邵", 2), ("万", 1), ("钱", 1), ("严", 1), ("覃", 1), ("武", 1), ("戴", 1),
        ("莫", 1), ("孔", 1), ("向", 1), ("汤", 1), ("常", 1), ("温", 1), ("康", 1), ("施", 1),
        ("欧阳", 1), ("上官", 1), ("司马", 1), ("诸葛", 1),
    ]

    /// Given-name characters by generation and sex: what parents chose changed a lot
    /// between the 1950s (建国, 秀英) and the 2010s (子涵, 梓萱). `first` and `second` make
    /// two-character given names, `single` one-character ones.
    struct Pool {
        let first: [String]
        let second: [String]
        let single: [String]
    }

    enum Era: Int, CaseIterable {
        /// Born before 1965.
        case old
        /// Born 1965–1989.
        case middle
        /// Born 1990 or later.
        case young

        init(birthYear: Int) {
            self = birthYear < 1965 ? .old : birthYear < 1990 ? .middle : .young
        }
    }

    static func pool(era: Era, male: Bool) -> Pool {
        switch (era, male) {
        case (.old, true): return maleOld
        case (.middle, true): return maleMiddle
        case (.young, true): return maleYoung
        case (.old, false): return femaleOld
        case (.middle, false): return femaleMiddle
        case (.young, false): return femaleYoung
        }
    }

    static let maleOld = Pool(
        first: chars("建国志文德保学永玉长金振树明福庆海立春宝"),
        second: chars("国华民军明平林生成忠山荣祥发才富贵强仁义"),
        single: chars("军强明华林伟勇平刚斌忠权"))
    static let maleMiddle = Pool(
        first: chars("志建海晓伟俊文春小永卫红国宏立振德明东兵"),
        second: chars("强伟军勇杰涛明辉峰斌波刚华东平林鹏飞磊超"),
        single: chars("伟强磊军勇杰涛明超刚辉鹏斌波峰飞"))
    static let maleYoung = Pool(
        first: chars("子浩宇俊梓一家思天博嘉泽铭睿雨晨皓明志文"),
        second: chars("轩然宇豪杰博涵辰睿泽航阳铭晨浩恒瑞霖鑫毅"),
        single: chars("浩宇杰鑫磊帅博洋凯旭晨阳"))
    static let femaleOld = Pool(
        first: chars("秀桂玉淑凤金翠素美月春兰丽彩巧英银雪慧爱"),
        second: chars("英兰珍芳梅华琴云凤莲花香荣娥霞萍娟贞芝仙"),
        single: chars("兰英芳珍梅萍琴华凤霞"))
    static let femaleMiddle = Pool(
        first: chars("丽晓海红春小美雪艳秀玉静建丹慧婷燕雅佳文"),
        second: chars("燕丽红霞萍娟艳芳敏静梅玲琳婷华莉洁颖英君"),
        single: chars("芳娜敏静丽艳娟霞燕萍红玲"))
    static let femaleYoung = Pool(
        first: chars("子梓雨欣诗思一佳可语若紫梦心艺雅依晨嘉静"),
        second: chars("涵萱怡琪彤妍欣悦琳菲然瑶婷雯月曦淇馨瑜玥"),
        single: chars("琪欣悦妍婷怡涵萱雪洁"))

    private static func chars(_ text: String) -> [String] {
        text.map { String($0) }
    }

    /// County-level area codes (GB/T 2260) of Hangzhou 3301 and Ningbo 3302, where the demo
    /// county is: the first six digits of a locally registered person's ID number.
    static let localAreas = [
        "330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112", "330113",
        "330114", "330122", "330127", "330182", "330203", "330205", "330206", "330211", "330212",
        "330213", "330225", "330226", "330281", "330282",
    ]

    /// Areas elsewhere that many of Zhejiang's incoming residents come from, for people
    /// registered away from where they live (人户分离) and for tenants.
    static let outsideAreas = [
        "340104", "340302", "341202", "410102", "411302", "360102", "362201", "510104", "511302",
        "430102", "431102", "420102", "421102", "320102", "321302", "350102", "522101", "450102",
    ]

    /// Mobile prefixes 13x, 15x, 17x, 18x, 19x in use, weighted roughly by how many numbers
    /// each has handed out.
    static let mobilePrefixes: [(String, Int)] = [
        ("130", 4), ("131", 4), ("132", 4), ("133", 4), ("134", 4), ("135", 7), ("136", 7), ("137", 7),
        ("138", 8), ("139", 8), ("150", 5), ("151", 5), ("152", 5), ("153", 3), ("155", 3), ("156", 3),
        ("157", 3), ("158", 5), ("159", 5), ("170", 1), ("173", 2), ("175", 1), ("176", 2), ("177", 2),
        ("178", 2), ("180", 3), ("181", 3), ("182", 3), ("183", 3), ("184", 1), ("185", 3), ("186", 4),
        ("187", 4), ("188", 4), ("189", 4), ("191", 1), ("193", 1), ("195", 1), ("198", 2), ("199", 2),
    ]

    /// Notes staff write on some key-group records.
    static let lonelyElderNotes = ["子女在外地，每周电话联系", "行动不便，需定期上门走访", "已安装紧急呼叫设备"]
}

/// A table of weighted choices, drawn with one uniform integer and a binary search.
struct WeightedTable<T: Sendable>: Sendable {
    let items: [T]
    /// Running totals: `cumulative[i]` is the sum of the weights of items 0…i.
    let cumulative: [Int]

    init(_ pairs: [(T, Int)]) {
        var items: [T] = []
        var cumulative: [Int] = []
        var total = 0
        for (item, weight) in pairs where weight > 0 {
            total += weight
            items.append(item)
            cumulative.append(total)
        }
        self.items = items
        self.cumulative = cumulative
    }

    var total: Int { cumulative.last ?? 0 }

    /// Index of the drawn item (0 for an empty table; callers never build one).
    func index(_ rng: inout SplitMix64) -> Int {
        let target = rng.below(total)
        var low = 0, high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > target { high = mid } else { low = mid + 1 }
        }
        return low
    }

    func draw(_ rng: inout SplitMix64) -> T {
        items[index(&rng)]
    }
}
