/// The analysis as a frame's `mel` metadata (bsqt(5)), written and read.
extension MelAnalysis {
    /// The `mel` metadata object of bsqt(5).
    public var metadata: JSONValue {
        var db = JSONObject()
        switch ref {
        case .max: db["ref"] = "max"
        case .value(let v): db["ref"] = .number(v)
        }
        db["amin"] = .number(amin)
        db["top_db"] = topDB.map { .number($0) } ?? .null
        var m = JSONObject()
        m["sample_rate"] = JSONValue(sampleRate)
        m["n_fft"] = JSONValue(nFFT)
        m["win_length"] = JSONValue(resolvedWinLength)
        m["hop_length"] = JSONValue(hopLength)
        m["n_mels"] = JSONValue(nMels)
        m["fmin"] = .number(fmin)
        m["fmax"] = .number(resolvedFmax)
        m["mel_scale"] = .string(melScale.rawValue)
        m["norm"] = .string(norm.rawValue)
        m["power"] = .number(power)
        m["center"] = .bool(center)
        m["pad_mode"] = .string(padMode.rawValue)
        m["db"] = .object(db)
        return .object(m)
    }

    /// The analysis recorded as a frame's `mel` metadata, the inverse of
    /// `metadata`. A missing key keeps `mel`'s default; a key of the wrong
    /// type or value is an error naming it.
    public init(metadata m: JSONValue) throws {
        self.init()
        func number(_ key: String) throws -> Double? {
            guard let v = m[key], v != .null else { return nil }
            guard let x = v.number else { throw BSQError("mel.\(key) is not a number") }
            return x
        }
        func integer(_ key: String) throws -> Int? {
            guard let x = try number(key) else { return nil }
            guard let n = Int(exactly: x) else { throw BSQError("mel.\(key) is not an integer (\(x))") }
            return n
        }
        func choice<T: RawRepresentable>(_ key: String, _: T.Type) throws -> T? where T.RawValue == String {
            guard let v = m[key], v != .null else { return nil }
            guard let s = v.string, let c = T(rawValue: s) else { throw BSQError("mel.\(key) has an unknown value \(v.serialized())") }
            return c
        }
        if let v = try integer("sample_rate") { sampleRate = v }
        if let v = try integer("n_fft") { nFFT = v }
        if let v = try integer("win_length") { winLength = v }
        if let v = try integer("hop_length") { hopLength = v }
        if let v = try integer("n_mels") { nMels = v }
        if let v = try number("fmin") { fmin = v }
        if let v = try number("fmax") { fmax = v }
        if let v = try choice("mel_scale", MelScale.self) { melScale = v }
        if let v = try choice("norm", MelNorm.self) { norm = v }
        if let v = try number("power") { power = v }
        if let v = m["center"], v != .null {
            guard let b = v.bool else { throw BSQError("mel.center is not true or false") }
            center = b
        }
        if let v = try choice("pad_mode", PadMode.self) { padMode = v }
        if let db = m["db"] {
            if let r = db["ref"] {
                if r.string == "max" { ref = .max }
                else if let x = r.number { ref = .value(x) }
                else { throw BSQError("mel.db.ref is neither \"max\" nor a number") }
            }
            if let a = db["amin"]?.number { amin = a }
            if let t = db["top_db"] { topDB = t.number }
        }
        do { try validate() } catch let e as BSQError {
            // validate() names the options of `mel`; name the metadata keys instead
            var message = e.message
            for option in ["sample-rate", "n-fft", "win-length", "hop-length", "n-mels", "fmin", "fmax", "power", "ref", "amin", "top-db"] {
                let key = (option == "ref" || option == "amin" || option == "top-db" ? "db." : "") + option.replacingOccurrences(of: "-", with: "_")
                message = message.replacingOccurrences(of: "--\(option) ", with: "mel.\(key) ")
                message = message.replacingOccurrences(of: "--\(option))", with: "mel.\(key))")
            }
            throw BSQError(message)
        }
    }
}
