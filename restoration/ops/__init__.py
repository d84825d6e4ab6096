"""Restoration operators: each module holds an op's functional form, its nn.Module and its
``OpSpec`` (``restoration.ops.opspec``). Nothing registers itself on import: the one module that
registers every op is ``restoration.op_registry``, where ops are looked up by name.
"""
