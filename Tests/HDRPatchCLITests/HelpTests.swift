// `hdrpatch --help` lists the subcommands, and each subcommand has its own help.
import Testing

struct HelpTests {
    static let subcommands = ["inspect", "convert", "synth", "bench", "evaluate", "restore", "report", "ablate"]

    @Test func rootHelpListsSubcommands() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0)
        for name in Self.subcommands { #expect(r.stdout.contains(name), "\(name) missing from --help") }
    }

    @Test(arguments: subcommands)
    func subcommandHelp(_ name: String) throws {
        let r = try CLI.run([name, "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE: hdrpatch \(name)"))
    }
}
