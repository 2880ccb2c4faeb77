"""The policy gate: declarative policies over a model version's evidence, decisions with evidence in the
Object Lock bucket, and the detection of approvals made outside the gate.

Entry points: `keel.gate.decide.handle_event` / `gate_model_package` (Lambda, CLI), `keel.gate.local` (the
local runner on moto).
"""
