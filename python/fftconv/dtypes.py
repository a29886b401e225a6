"""The element types of the project's programs and their PyTorch dtypes:
the one map from "f16", "bf16", "f32" (the MLIR element types, the
manifest's dtypes) to torch dtypes and back. PyTorch is imported only when a
function here is called."""

ELEMENT_TYPES = ("f16", "bf16", "f32")
_ELEMENT_BYTES = {"f16": 2, "bf16": 2, "f32": 4}


def element_bytes(element):
    """The bytes of one value of an element type name."""
    if element not in _ELEMENT_BYTES:
        raise ValueError(f"element type must be one of {ELEMENT_TYPES}, got {element!r}")
    return _ELEMENT_BYTES[element]


def torch_dtypes():
    """{"f16": torch.float16, "bf16": torch.bfloat16, "f32": torch.float32}."""
    import torch

    return {"f16": torch.float16, "bf16": torch.bfloat16, "f32": torch.float32}


def torch_dtype(element):
    """The torch dtype of an element type name."""
    dtypes = torch_dtypes()
    if element not in dtypes:
        raise ValueError(f"element type must be one of {ELEMENT_TYPES}, got {element!r}")
    return dtypes[element]


def element_of(dtype):
    """The element type name of a torch dtype (float16, bfloat16, float32)."""
    for element, candidate in torch_dtypes().items():
        if candidate == dtype:
            return element
    raise ValueError(f"dtype must be float16, bfloat16 or float32, got {dtype}")
