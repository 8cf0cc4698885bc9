import Foundation

/// The C-locale `strftime` that Python's `datetime.strftime` uses on Linux, for a wall-clock date.
///
/// Supported: `%a %A %b %h %B %c %C %d %D %e %F %H %I %j %m %M %n %p %r %R %S %t %T %u %w %x %X %y %Y %z %Z %%`,
/// and glibc's `%-d`-style flag that drops padding. Unknown directives are copied through unchanged.
public struct Strftime: Sendable {
    /// The wall-clock fields to format.
    public var year, month, day, hour, minute, second, weekday: Int  // weekday: 0 = Monday ... 6 = Sunday
    /// Day of the year, 1-based.
    public var dayOfYear: Int

    /// Wall-clock fields of `date` in `timeZone` (Gregorian calendar).
    public init(date: Date, timeZone: TimeZone) {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = timeZone
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        year = c.year ?? 1970
        month = c.month ?? 1
        day = c.day ?? 1
        hour = c.hour ?? 0
        minute = c.minute ?? 0
        second = c.second ?? 0
        weekday = ((c.weekday ?? 1) + 5) % 7  // Calendar: 1 = Sunday
        dayOfYear = cal.ordinality(of: .day, in: .year, for: date) ?? 1
    }

    static let days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December"]

    /// Formats like C `strftime(format)`.
    public func format(_ fmt: String) -> String {
        var out = ""
        let u = Array(fmt.unicodeScalars)
        var i = 0
        func pad(_ n: Int, _ width: Int, _ noPad: Bool, _ padChar: String = "0") -> String {
            let s = String(n)
            if noPad || s.count >= width { return s }
            return String(repeating: padChar, count: width - s.count) + s
        }
        while i < u.count {
            let c = u[i]
            guard c == "%", i + 1 < u.count else {
                out.unicodeScalars.append(c)
                i += 1
                continue
            }
            var j = i + 1
            var noPad = false
            if u[j] == "-", j + 1 < u.count {
                noPad = true
                j += 1
            }
            let d = u[j]
            let hour12 = hour % 12 == 0 ? 12 : hour % 12
            switch d {
            case "a": out += String(Strftime.days[weekday].prefix(3))
            case "A": out += Strftime.days[weekday]
            case "b", "h": out += String(Strftime.months[month - 1].prefix(3))
            case "B": out += Strftime.months[month - 1]
            case "c": out += format("%a %b %e %H:%M:%S %Y")
            case "C": out += pad(year / 100, 2, noPad)
            case "d": out += pad(day, 2, noPad)
            case "D": out += format("%m/%d/%y")
            case "e": out += pad(day, 2, noPad, " ")
            case "F": out += format("%Y-%m-%d")
            case "H": out += pad(hour, 2, noPad)
            case "I": out += pad(hour12, 2, noPad)
            case "j": out += pad(dayOfYear, 3, noPad)
            case "m": out += pad(month, 2, noPad)
            case "M": out += pad(minute, 2, noPad)
            case "n": out += "\n"
            case "p": out += hour < 12 ? "AM" : "PM"
            case "r": out += format("%I:%M:%S %p")
            case "R": out += format("%H:%M")
            case "S": out += pad(second, 2, noPad)
            case "t": out += "\t"
            case "T": out += format("%H:%M:%S")
            case "u": out += String(weekday + 1)
            case "w": out += String((weekday + 1) % 7)
            case "x": out += format("%m/%d/%y")
            case "X": out += format("%H:%M:%S")
            case "y": out += pad(year % 100, 2, noPad)
            case "Y": out += String(year)
            case "z", "Z": break  // naive datetime: empty
            case "f": out += "000000"
            case "%": out += "%"
            default:
                out.unicodeScalars.append(contentsOf: u[i...j])
            }
            i = j + 1
        }
        return out
    }
}
