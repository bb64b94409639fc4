// Bit-exact parity with PyTorch's CPU optimizers (golden bits from torch 2.13.0+cpu on an AVX-512 machine).
import Numerics
import Testing

@testable import Training

/// Generated with (torch 2.13.0+cpu, foreach=False):
/// ```python
/// p0 = [1.0, -0.75, 0.5, 2.0, -1.5, 0.25]
/// def grads(t): return torch.tensor([0.5*(i+1)*(-1)**(i+t) - 0.1*t for i in range(6)], dtype=torch.float32)
/// p = torch.tensor(p0, requires_grad=True)
/// o = torch.optim.AdamW([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, foreach=False)
/// # or torch.optim.SGD([p], lr=0.05, momentum=0.9, weight_decay=0.01, foreach=False)
/// for t in range(5): p.grad = grads(t); o.step()
/// print(p.detach().numpy().view(np.uint32), o.state[p][...])
/// ```
/// torch's vectorised CPU kernels use fused multiply-adds (lerp, addcmul, add with alpha); ours mirror them, so a
/// mismatch here means an operation order changed, not a tolerance problem.
@Suite struct OptimizerParityTests {
    func goldenStore(slots: Int) throws -> ParameterStore {
        let s = try ParameterStore(layout: [("w", [6])], stateSlots: slots)
        for i in 0..<6 { s.values[i] = goldenStart[i] }
        return s
    }

    @Test func adamWMatchesTorchBitForBit() throws {
        let s = try goldenStore(slots: 2)
        let opt = AdamW(lr: 0.01, betas: (0.8, 0.99), eps: 1e-6, weightDecay: 0.1)
        for t in 0..<5 {
            for i in 0..<6 { s.grads[i] = goldenGrad(i, t) }
            opt.step(s, lr: 0.01)
        }
        #expect(bits(s.values) == [0x3f7e_1227, 0xbf3a_3b14, 0x3ef9_ca92, 0x4000_64d5, 0xbfc0_775a, 0x3e87_27b5])
        #expect(bits(s.state(0)) == [0xbdb8_7bde, 0xbe9f_6a94, 0x3d6b_4637, 0xbeea_f254, 0x3e51_e107, 0xbf1b_3d08])
        #expect(bits(s.state(1)) == [0x3c58_79e7, 0x3d65_7f87, 0x3ddb_87e1, 0x3e54_11e3, 0x3e99_2fcb, 0x3ee9_919d])
    }

    @Test func sgdMatchesTorchBitForBit() throws {
        let s = try goldenStore(slots: 1)
        let opt = SGD(lr: 0.05, momentum: 0.9, weightDecay: 0.01)
        for t in 0..<5 {
            for i in 0..<6 { s.grads[i] = goldenGrad(i, t) }
            opt.step(s, lr: 0.05)
        }
        #expect(bits(s.values) == [0x3f83_2840, 0xbf07_8029, 0x3ecf_5138, 0x4014_d7f3, 0xbfda_3cff, 0x3f35_cfa1])
        #expect(bits(s.state(0)) == [0xbee4_565a, 0xbfe2_8252, 0x3ebc_971c, 0xc01f_7c64, 0x3f8f_8888, 0xc059_7c87])
    }
}
