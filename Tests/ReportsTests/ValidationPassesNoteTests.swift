// The report's line under the validation table: how many passes per patch the validations and the restores ran.
import Testing

@testable import Reports

struct ValidationPassesNoteTests {
    @Test func saysBothCountsWhenTheValidationsRanFewerPasses() {
        let note = RunReport.validationPassesNote(
            configText: #"{"model":{"arch":"plain","self_ensemble":8},"train":{"steps":10,"val_self_ensemble":1}}"#)
        #expect(
            note
                == "Each validation restored the images with 1 pass per patch (train.val_self_ensemble); the held-out "
                + "test and the pictures with 8 (model.self_ensemble).")
    }

    @Test func saysTheOneCountWhenEveryRestoreRanIt() {
        #expect(
            RunReport.validationPassesNote(configText: #"{"model":{"self_ensemble":4},"train":{"steps":10}}"#)
                == "Every restore of this run, validations included, averages 4 passes per patch (model.self_ensemble)."
        )
        #expect(
            RunReport.validationPassesNote(
                configText: #"{"model":{"self_ensemble":2},"train":{"val_self_ensemble":2}}"#)?.hasPrefix(
                    "Every restore of this run, validations included, averages 2 passes") == true)
    }

    @Test func noLineForOnePassOrAnUnreadableConfig() {
        #expect(RunReport.validationPassesNote(configText: #"{"model":{"arch":"plain"},"train":{"steps":10}}"#) == nil)
        #expect(RunReport.validationPassesNote(configText: "name: [unclosed") == nil)
        #expect(RunReport.validationPassesNote(configText: nil) == nil)
    }
}
