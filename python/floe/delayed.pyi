from typing import Any, Callable, Optional, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

class Delayed:
    key: str
    def compute(self) -> Any: ...

@overload
def delayed(func: F, *, name: Optional[str] = ...) -> Callable[..., Delayed]: ...
@overload
def delayed(func: None = ..., *, name: Optional[str] = ...) -> Callable[[F], Callable[..., Delayed]]: ...
@overload
def delayed(func: Any, *, name: Optional[str] = ...) -> Delayed: ...
