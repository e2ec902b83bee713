// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// The example consumer under forge: the model is deployed and its weights uploaded by the setUp that
// `ml2sc generate --foundry` wrote (model/test/Ml2sc_model.t.sol), then Screening is put in front of it.
// No forge-std: a failed check reverts, and forge reports the test as failed.

import {Ml2sc_modelDeploy} from "../model/test/Ml2sc_model.t.sol";
import {Ml2sc_modelClient} from "../model/src/Ml2sc_modelClient.sol";
import {Screening} from "../src/Screening.sol";

/// A forger: a contract at another address that answers like the model but holds other weights.
contract ForgedModel {
    function commitment() external pure returns (bytes32) {
        return bytes32(uint256(1));
    }

    function predict(bytes32[3] calldata) external pure returns (int256[] memory outputs) {
        outputs = new int256[](1);
        outputs[0] = 1 << 20; // "benign, certainly"
    }
}

contract ScreeningTest is Ml2sc_modelDeploy {
    Screening internal desk;
    int256 internal constant THRESHOLD = 0.9e18;

    // two rows of examples/breast-cancer/test.csv (rows 0 and 9), in 1e18
    int256[30] internal BENIGN = [int256(-455672115087509160), -277113229036331200, -520033955574035600, -466151237487792970, -1597030878067016600, -1474022746086120600, -1103829264640808000, -1121742606163025000, -1040656805038452100, -1561234354972839400, -190638616681098940, -465253293514251700, -259612202644348140, -262244671583175660, -419715791940689100, -1166784405708313000, -1022499918937683000, -1313113689422607400, -18433382734656334, -1025921225547790500, -529411494731903100, -749541163444519000, -609867095947265600, -517707228660583500, -1756150245666504000, -1355881929397583000, -1298603415489196800, -1489171028137207000, -1090323567390442000, -1635445475578308000];
    int256[30] internal MALIGNANT = [int256(1222813487052917500), -402669936418533300, 1192142844200134300, 1152305841445922900, 355320572853088400, 532825529575347900, 767382860183715800, 1101446509361267000, 81914640963077550, 620608985424041700, 1375960230827331500, -301178336143493650, 971079051494598400, 1187535762786865200, 295986354351043700, 393290966749191300, 419951140880584700, 636956095695495600, -527185380458831800, 572257995605468800, 1333267569541931200, -444587409496307400, 1157591462135315000, 1248869776725769000, 393803775310516360, 368621885776519800, 404711544513702400, 784107267856597900, -637617290019989000, 628411054611206000];
    // ml2sc's answer for row 0 (the simulator on the client's encoding; `ml2sc predict` gives the same)
    int256 internal constant BENIGN_SCORE = 999993324279785156;

    function setUp() public override {
        super.setUp();
        desk = new Screening(address(model), THRESHOLD);
    }

    function _dyn(int256[30] memory row) internal pure returns (int256[] memory f) {
        f = new int256[](30);
        for (uint256 i = 0; i < 30; i++) f[i] = row[i];
    }

    function test_acceptsAboveThreshold() public {
        int256 score = desk.submit(_dyn(BENIGN));
        require(score == BENIGN_SCORE, "the benign score differs from ml2sc's");
        require(desk.acceptedScore(address(this)) == score, "the acceptance was not recorded");
        require(desk.classify(_dyn(BENIGN)) == 1, "row 0 is not classed benign");
    }

    function test_rejectsBelowThreshold() public {
        require(desk.classify(_dyn(MALIGNANT)) == 0, "row 9 is not classed malignant");
        try desk.submit(_dyn(MALIGNANT)) {
            revert("a malignant case was accepted");
        } catch (bytes memory err) {
            require(bytes4(err) == Screening.ScoreTooLow.selector, "not ScoreTooLow");
        }
        require(desk.acceptedScore(address(this)) == 0, "a rejected case was recorded");
    }

    function test_rejectsOutOfRangeFeature() public {
        int256[] memory f = _dyn(BENIGN);
        f[7] = 100e18; // far outside the safe input range
        try desk.submit(f) {
            revert("an out-of-range feature was accepted");
        } catch (bytes memory err) {
            bytes memory want = abi.encodeWithSelector(
                Ml2sc_modelClient.FeatureOutOfRange.selector, uint256(7), int256(100e18), Ml2sc_modelClient.FEATURE_MIN, Ml2sc_modelClient.FEATURE_MAX
            );
            require(keccak256(err) == keccak256(want), "not FeatureOutOfRange(7, 100e18, min, max)");
        }
    }

    function test_refusesAForgedModel() public {
        ForgedModel forged = new ForgedModel();
        try new Screening(address(forged), THRESHOLD) {
            revert("a desk was built on a forged model");
        } catch (bytes memory err) {
            require(bytes4(err) == Ml2sc_modelClient.ModelMismatch.selector, "not ModelMismatch");
        }
    }
}
