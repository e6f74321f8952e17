import Foundation

/// A pair of Tests/Fixtures/metrics/mcd_expected.json, made by
/// make_mcd_fixtures.py with the PyPI package mel-cepstral-distance 0.0.4.
public struct MCDCase: Decodable {
    public let name: String
    public let ref: String
    public let hyp: String
    public let sample_rate: Int
    public let samples: Int
    public let mcd: Double
    public let penalty: Double
    public let mcd_pad: Double
    public let penalty_pad: Double
    public let mcd_mel80: Double

    public static func all() throws -> [MCDCase] {
        struct File: Decodable { let cases: [MCDCase] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: Repo.fixture("metrics/mcd_expected.json"))).cases
    }
}
