"""plan stage: Instruction -> Plan (atomic actions + structured video prompt)."""
