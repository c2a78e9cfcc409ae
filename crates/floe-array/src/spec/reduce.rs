//! Reductions' tasks as JSON: the operation, and the band plans of banded partials.

use serde_json::{Value as Json, json};

use super::{
    bad_task, dtype_from_json, float_from_json, float_json, info_from_json, info_json, usizes,
};
use crate::reduction::band::{BandSpec, BandedSpec};
use crate::{ReduceOp, Result};

/// `{"name": "var", "ddof": 1}` (`ddof` for the variances and standard deviations only).
pub(crate) fn op_json(op: ReduceOp) -> Json {
    match op {
        ReduceOp::Var { ddof }
        | ReduceOp::Std { ddof }
        | ReduceOp::NanVar { ddof }
        | ReduceOp::NanStd { ddof } => json!({"name": op.name(), "ddof": ddof}),
        _ => json!({"name": op.name()}),
    }
}

pub(crate) fn op_from_json(v: &Json) -> Result<ReduceOp> {
    let name = v
        .get("name")
        .and_then(Json::as_str)
        .ok_or_else(|| bad_task(format!("a reduction is {{\"name\": …}}, not {v}")))?;
    let op = ReduceOp::from_numpy_name(name)
        .ok_or_else(|| bad_task(format!("no reduction `{name}`")))?;
    let ddof = || {
        v.get("ddof")
            .and_then(Json::as_u64)
            .and_then(|d| u32::try_from(d).ok())
            .ok_or_else(|| bad_task(format!("no `ddof` in {v}")))
    };
    Ok(match op {
        ReduceOp::Var { .. } => ReduceOp::Var { ddof: ddof()? },
        ReduceOp::Std { .. } => ReduceOp::Std { ddof: ddof()? },
        ReduceOp::NanVar { .. } => ReduceOp::NanVar { ddof: ddof()? },
        ReduceOp::NanStd { .. } => ReduceOp::NanStd { ddof: ddof()? },
        op => op,
    })
}

fn perm_json(perm: &Option<Vec<usize>>) -> Json {
    json!(perm)
}

fn perm_from_json(v: Option<&Json>) -> Result<Option<Vec<usize>>> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(p) => usizes(p).map(Some),
    }
}

fn band_json(b: &BandSpec) -> Json {
    match b {
        BandSpec::Block { dep, perm, ndim } => {
            json!({"band": "block", "dep": dep, "perm": perm_json(perm), "ndim": ndim})
        }
        BandSpec::Full { value, dtype, info } => {
            json!({"band": "full", "value": float_json(*value), "dtype": dtype.name(), "info": info_json(info)})
        }
        BandSpec::Source { source, info, perm } => {
            json!({"band": "source", "source": source.to_json(), "info": info_json(info), "perm": perm_json(perm)})
        }
        BandSpec::Elementwise {
            kernel,
            info,
            inputs,
        } => json!({
            "band": "elementwise", "kernel": kernel.to_json(), "info": info_json(info),
            "inputs": inputs.iter().map(band_json).collect::<Vec<_>>(),
        }),
    }
}

fn band_from_json(v: &Json, depth: usize) -> Result<BandSpec> {
    // Chains are as deep as the expressions users write; a bound keeps a hostile spec from
    // exhausting the stack.
    if depth > 256 {
        return Err(bad_task("a band plan nested more than 256 deep".into()));
    }
    let field = |name: &'static str| {
        v.get(name)
            .ok_or_else(|| bad_task(format!("no field `{name}` in band {v}")))
    };
    let size = |name: &'static str| {
        field(name)?
            .as_u64()
            .and_then(|x| usize::try_from(x).ok())
            .ok_or_else(|| bad_task(format!("`{name}` is not a size in band {v}")))
    };
    let kind = field("band")?
        .as_str()
        .ok_or_else(|| bad_task(format!("`band` is not text in {v}")))?;
    Ok(match kind {
        "block" => BandSpec::Block {
            dep: size("dep")?,
            perm: perm_from_json(v.get("perm"))?,
            ndim: size("ndim")?,
        },
        "full" => BandSpec::Full {
            value: float_from_json(field("value")?)?,
            dtype: dtype_from_json(field("dtype")?)?,
            info: info_from_json(field("info")?)?,
        },
        "source" => BandSpec::Source {
            source: crate::Source::from_json(field("source")?)?,
            info: info_from_json(field("info")?)?,
            perm: perm_from_json(v.get("perm"))?,
        },
        "elementwise" => BandSpec::Elementwise {
            kernel: crate::Kernel::from_json(field("kernel")?)?,
            info: info_from_json(field("info")?)?,
            inputs: field("inputs")?
                .as_array()
                .ok_or_else(|| bad_task(format!("`inputs` is not a list in band {v}")))?
                .iter()
                .map(|b| band_from_json(b, depth + 1))
                .collect::<Result<_>>()?,
        },
        other => return Err(bad_task(format!("no band kind `{other}`"))),
    })
}

/// The fields of a banded partial (beside `"task": "banded"`).
pub(super) fn banded_json(s: &BandedSpec) -> Json {
    json!({
        "task": "banded", "op": op_json(s.op), "axes": s.axes, "dtype": s.dtype.name(),
        "axis": s.axis, "rows": s.rows, "along_kept": s.along_kept,
        "infos": s.infos.iter().map(info_json).collect::<Vec<_>>(),
        "bands": s.bands.iter().map(band_json).collect::<Vec<_>>(),
    })
}

pub(super) fn banded_from_json(v: &Json) -> Result<BandedSpec> {
    let field = |name: &'static str| {
        v.get(name)
            .ok_or_else(|| bad_task(format!("no field `{name}` in {v}")))
    };
    let size = |name: &'static str| {
        field(name)?
            .as_u64()
            .and_then(|x| usize::try_from(x).ok())
            .ok_or_else(|| bad_task(format!("`{name}` is not a size in {v}")))
    };
    let list = |name: &'static str| {
        field(name)?
            .as_array()
            .ok_or_else(|| bad_task(format!("`{name}` is not a list in {v}")))
    };
    Ok(BandedSpec {
        op: op_from_json(field("op")?)?,
        axes: usizes(field("axes")?)?,
        dtype: dtype_from_json(field("dtype")?)?,
        axis: size("axis")?,
        rows: size("rows")?,
        along_kept: field("along_kept")?
            .as_bool()
            .ok_or_else(|| bad_task(format!("`along_kept` is not a boolean in {v}")))?,
        infos: list("infos")?
            .iter()
            .map(info_from_json)
            .collect::<Result<_>>()?,
        bands: list("bands")?
            .iter()
            .map(|b| band_from_json(b, 0))
            .collect::<Result<_>>()?,
    })
}
