class SimulatorError(Exception):
    """Something the person running the simulator should be told, in words they can act on."""


class FaultAlreadyActive(SimulatorError):
    pass


class FaultNotActive(SimulatorError):
    pass
