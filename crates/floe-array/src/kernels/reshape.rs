//! Reshaping a block.

use crate::block::BlockInfo;
use crate::{DynArray, with_array};

/// The block function of a reshape: the input block's elements in the output block's shape.
pub(crate) fn reshape_block(
    b: &DynArray,
    info: &BlockInfo,
) -> std::result::Result<DynArray, floe_graph::TaskError> {
    Ok(with_array!(b, a => DynArray::from(
        a.as_standard_layout()
            .into_owned()
            .into_shape_with_order(ndarray::IxDyn(&info.shape))
            .map_err(|e| floe_graph::TaskError::msg(format!("internal error: reshape of a block: {e}")))?
    )))
}
