// `hdrpatch --help` lists the subcommands, and each subcommand has its own help.
import Testing

struct HelpTests {
    static let subcommands = [
        "inspect", "convert", "synth", "train", "evaluate", "restore", "report", "ablate", "bench",
        "export"
    ]

    /// Each subcommand is an entry of the SUBCOMMANDS section (its name at the start of an indented line), in
    /// this order; a name that only appears inside another entry's description does not count.
    @Test func rootHelpListsSubcommands() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0)
        let section = try #require(r.stdout.components(separatedBy: "SUBCOMMANDS:").last)
        let entries = section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }.filter { $0 != "See" }
        #expect(entries == Self.subcommands)
    }

    @Test(arguments: subcommands)
    func subcommandHelp(_ name: String) throws {
        let r = try CLI.run([name, "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE: hdrpatch \(name)"))
    }
}
