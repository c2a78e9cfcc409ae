from os import PathLike
from typing import Any, Dict, Optional, Union

def set(
    threads: Optional[int] = ...,
    memory_limit: Union[None, int, str] = ...,
    spill_dir: Union[None, str, PathLike[str]] = ...,
) -> None: ...
def get() -> Dict[str, Any]: ...
