//! Column expressions, evaluated on one record batch at a time with Arrow's kernels.
//!
//! ```
//! use floe_dataframe::{col, lit};
//!
//! let positive_x_negative_y = col("x").gt(lit(0.0)) & col("y").lt(lit(0));
//! assert_eq!(positive_x_negative_y.columns(), vec!["x", "y"]);
//! let z = col("x") * lit(2) + col("y") / col("w");
//! assert_eq!(z.to_string(), "((x * 2) + (y / w))");
//! ```

use std::fmt;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanArray, Datum, Float64Array, Int64Array,
    NullArray, PrimitiveArray, RecordBatch, Scalar, StringArray,
};
use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::{boolean, cmp, numeric};
use arrow::compute::{can_cast_types, cast};
use arrow::datatypes::{DataType, Float32Type, Float64Type, Schema};

use crate::error::{Error, Result, invalid};

/// A constant in an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A missing value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer (compared with any integer or float column).
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (compared with string columns; with date and time columns, parsed as one).
    Str(String),
}

impl From<bool> for Literal {
    fn from(v: bool) -> Self {
        Literal::Bool(v)
    }
}
impl From<i64> for Literal {
    fn from(v: i64) -> Self {
        Literal::Int(v)
    }
}
impl From<i32> for Literal {
    fn from(v: i32) -> Self {
        Literal::Int(v.into())
    }
}
impl From<f64> for Literal {
    fn from(v: f64) -> Self {
        Literal::Float(v)
    }
}
impl From<&str> for Literal {
    fn from(v: &str) -> Self {
        Literal::Str(v.to_owned())
    }
}
impl From<String> for Literal {
    fn from(v: String) -> Self {
        Literal::Str(v)
    }
}

impl Literal {
    fn data_type(&self) -> DataType {
        match self {
            Literal::Null => DataType::Null,
            Literal::Bool(_) => DataType::Boolean,
            Literal::Int(_) => DataType::Int64,
            Literal::Float(_) => DataType::Float64,
            Literal::Str(_) => DataType::Utf8,
        }
    }

    fn to_array(&self) -> ArrayRef {
        match self {
            Literal::Null => Arc::new(NullArray::new(1)),
            Literal::Bool(v) => Arc::new(BooleanArray::from(vec![*v])),
            Literal::Int(v) => Arc::new(Int64Array::from(vec![*v])),
            Literal::Float(v) => Arc::new(Float64Array::from(vec![*v])),
            Literal::Str(v) => Arc::new(StringArray::from(vec![v.as_str()])),
        }
    }
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (true division: integers give floats, as pandas)
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `&` (Kleene logic where a side is missing: missing and false is false)
    And,
    /// `|` (Kleene logic where a side is missing: missing or true is true)
    Or,
}

impl BinaryOp {
    fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::And => "&",
            BinaryOp::Or => "|",
        }
    }

    fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
        )
    }
}

/// An expression over a frame's columns: what `filter` and `with_column` take.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A column, by name.
    Column(String),
    /// A constant.
    Literal(Literal),
    /// `left op right`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
    },
    /// Logical not.
    Not(Box<Expr>),
    /// Whether each value is missing.
    IsNull(Box<Expr>),
    /// Whether each value is present.
    IsNotNull(Box<Expr>),
    /// The values converted to another type.
    Cast(Box<Expr>, DataType),
    /// The first expression's values, its missing ones (null or NaN) taken from the
    /// second (`fillna`).
    FillNa(Box<Expr>, Box<Expr>),
    /// A string operation on each value (pandas' `.str`).
    Str(Box<Expr>, StrOp),
    /// A part of each date or timestamp (pandas' `.dt`).
    Dt(Box<Expr>, DtOp),
}

/// What `.str` computes from each string; a missing value stays missing.
#[derive(Clone, Debug, PartialEq)]
pub enum StrOp {
    /// Whether the string holds `pattern`: a regular expression, or (with `regex`
    /// false) the text itself.
    Contains {
        /// What to look for.
        pattern: String,
        /// Whether `pattern` is a regular expression (pandas' default).
        regex: bool,
    },
    /// Whether the string starts with the text.
    StartsWith(String),
    /// Whether the string ends with the text.
    EndsWith(String),
    /// The string in lower case.
    Lower,
    /// The string in upper case.
    Upper,
    /// The number of characters.
    Len,
}

/// What `.dt` takes from each date or timestamp; a missing value stays missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtOp {
    /// The year.
    Year,
    /// The month, 1 to 12.
    Month,
    /// The day of the month, 1 to 31.
    Day,
    /// The hour, 0 to 23.
    Hour,
    /// The minute, 0 to 59.
    Minute,
    /// The second, 0 to 59.
    Second,
    /// The day of the week, Monday 0 to Sunday 6 (pandas' `dayofweek`).
    DayOfWeek,
    /// The day of the year, 1 to 366.
    DayOfYear,
    /// The timestamp rounded down to a multiple of this many nanoseconds (since
    /// 1970-01-01, as pandas' `floor("15min")`).
    Floor(i64),
    /// Midnight starting the week that holds the timestamp, weeks starting on this day
    /// (Monday 0 to Sunday 6): the bins of pandas' weekly periods (`W` = `W-SUN`, weeks
    /// ending on Sunday, start on Monday).
    WeekStart(u8),
    /// Midnight of the first day of the calendar period of `months` months (1, 3, 12…)
    /// that holds the timestamp, periods starting in the months `offset` + k·`months`
    /// (January 0): the bins of pandas' `ME`/`MS`, `QE`/`QS`, `YE`/`YS` and their anchored
    /// forms (`QE-JAN`, `YE-JUN`).
    PeriodStart {
        /// The period's length in months (1 to 12).
        months: u8,
        /// A month some period starts in, January 0 (below `months`).
        offset: u8,
    },
}

impl DtOp {
    /// Whether the operation's period or day is one it can take.
    fn check(&self) -> Result<()> {
        match *self {
            DtOp::Floor(n) if n <= 0 => Err(invalid(format!(
                "floor needs a positive period, got {n} ns"
            ))),
            DtOp::WeekStart(d) if d > 6 => Err(invalid(format!(
                "a week starts on a day 0 (Monday) to 6 (Sunday), got {d}"
            ))),
            DtOp::PeriodStart { months, offset }
                if !(1..=12).contains(&months) || offset >= months =>
            {
                Err(invalid(format!(
                    "a calendar period of {months} months starting at month {offset} (it \
                     needs 1 to 12 months and an offset below them)"
                )))
            }
            _ => Ok(()),
        }
    }
}

/// The column `name`.
pub fn col(name: &str) -> Expr {
    Expr::Column(name.to_owned())
}

/// The constant `v`.
pub fn lit(v: impl Into<Literal>) -> Expr {
    Expr::Literal(v.into())
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)+) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(self, other: Expr) -> Expr {
                Expr::Binary { op: BinaryOp::$op, left: Box::new(self), right: Box::new(other) }
            }
        )+
    };
}

impl Expr {
    binary_methods! {
        /// `self == other`.
        eq => Eq;
        /// `self != other`.
        not_eq => NotEq;
        /// `self < other`.
        lt => Lt;
        /// `self <= other`.
        lt_eq => LtEq;
        /// `self > other`.
        gt => Gt;
        /// `self >= other`.
        gt_eq => GtEq;
        /// `self & other` (also the `&` operator).
        and => And;
        /// `self | other` (also the `|` operator).
        or => Or;
    }

    /// Whether each value is missing.
    #[must_use]
    pub fn is_null(self) -> Expr {
        Expr::IsNull(Box::new(self))
    }

    /// Whether each value is present.
    #[must_use]
    pub fn is_not_null(self) -> Expr {
        Expr::IsNotNull(Box::new(self))
    }

    /// The values converted to `to`.
    #[must_use]
    pub fn cast(self, to: DataType) -> Expr {
        Expr::Cast(Box::new(self), to)
    }

    /// A string operation on each value (`.str`); the values must be strings.
    #[must_use]
    pub fn str(self, op: StrOp) -> Expr {
        Expr::Str(Box::new(self), op)
    }

    /// A part of each date or timestamp (`.dt`); the values must be dates or timestamps.
    #[must_use]
    pub fn dt(self, op: DtOp) -> Expr {
        Expr::Dt(Box::new(self), op)
    }

    /// The values, each missing one (null or NaN) replaced by `value`'s (a constant or
    /// another expression): pandas' `fillna`. Integers filled with a float become floats.
    #[must_use]
    pub fn fillna(self, value: Expr) -> Expr {
        Expr::FillNa(Box::new(self), Box::new(value))
    }

    /// The columns the expression reads, each once, in order of first use.
    pub fn columns(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit_columns(&mut |c| {
            if !out.contains(&c) {
                out.push(c);
            }
        });
        out
    }

    fn visit_columns<'a>(&'a self, f: &mut impl FnMut(&'a str)) {
        match self {
            Expr::Column(c) => f(c),
            Expr::Literal(_) => {}
            Expr::Binary { left, right, .. } | Expr::FillNa(left, right) => {
                left.visit_columns(f);
                right.visit_columns(f);
            }
            Expr::Not(e)
            | Expr::IsNull(e)
            | Expr::IsNotNull(e)
            | Expr::Cast(e, _)
            | Expr::Str(e, _)
            | Expr::Dt(e, _) => e.visit_columns(f),
        }
    }

    /// The type of the expression's values over `schema`; an unknown column or operands
    /// that do not fit the operator are errors, found before anything runs.
    ///
    /// # Errors
    ///
    /// [`Error::ColumnNotFound`], or [`Error::Invalid`] naming the operator and the types.
    pub fn data_type(&self, schema: &Schema) -> Result<DataType> {
        Ok(match self {
            Expr::Column(c) => field_type(schema, c)?,
            Expr::Literal(l) => l.data_type(),
            Expr::Binary { op, left, right } => {
                let (l, r) = (left.data_type(schema)?, right.data_type(schema)?);
                let (lt, rt) = operand_types(*op, &l, &r, left.is_literal(), right.is_literal())?;
                result_type(*op, &lt, &rt)
            }
            Expr::Not(e) => {
                let t = e.data_type(schema)?;
                if !matches!(t, DataType::Boolean | DataType::Null) {
                    return Err(invalid(format!("'not' needs booleans, not {t}")));
                }
                DataType::Boolean
            }
            Expr::IsNull(e) | Expr::IsNotNull(e) => {
                e.data_type(schema)?;
                DataType::Boolean
            }
            Expr::Cast(e, to) => {
                let from = e.data_type(schema)?;
                if !can_cast_types(&from, to) {
                    return Err(invalid(format!("cannot cast {from} to {to}")));
                }
                to.clone()
            }
            Expr::FillNa(e, v) => {
                fill_type(&e.data_type(schema)?, &v.data_type(schema)?, v.is_literal())?
            }
            Expr::Str(e, op) => {
                let t = e.data_type(schema)?;
                if !is_string(&t) && !matches!(t, DataType::Null) {
                    return Err(invalid(format!(".str needs strings; {e} is {t}")));
                }
                if let StrOp::Contains {
                    pattern,
                    regex: true,
                } = op
                {
                    // A bad pattern is found now, not when the frame runs.
                    arrow::compute::kernels::comparison::regexp_is_match_scalar(
                        &StringArray::from(Vec::<&str>::new()),
                        pattern,
                        None,
                    )?;
                }
                match op {
                    StrOp::Lower | StrOp::Upper => DataType::Utf8,
                    StrOp::Len => DataType::Int64,
                    _ => DataType::Boolean,
                }
            }
            Expr::Dt(e, op) => {
                let t = e.data_type(schema)?;
                if !matches!(
                    t,
                    DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
                ) {
                    return Err(invalid(format!(
                        ".dt needs dates or timestamps; {e} is {t}"
                    )));
                }
                op.check()?;
                match op {
                    DtOp::Floor(_) | DtOp::WeekStart(_) | DtOp::PeriodStart { .. } => {
                        DataType::Timestamp(arrow::datatypes::TimeUnit::Nanosecond, None)
                    }
                    _ => DataType::Int32,
                }
            }
        })
    }

    fn is_literal(&self) -> bool {
        matches!(self, Expr::Literal(_))
    }

    /// The expression's values over `batch`: an array as long as the batch.
    ///
    /// # Errors
    ///
    /// As [`Expr::data_type`], and Arrow's errors (a division by zero of integers, a
    /// string that does not parse as the date it is compared with).
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<ArrayRef> {
        let v = self.eval(batch)?;
        Ok(match v {
            Evaluated::Array(a) => a,
            Evaluated::Scalar(s) => broadcast(&s, batch.num_rows())?,
        })
    }

    fn eval(&self, batch: &RecordBatch) -> Result<Evaluated> {
        Ok(match self {
            Expr::Column(c) => {
                let i = batch
                    .schema()
                    .index_of(c)
                    .map_err(|_| not_found(c, &batch.schema()))?;
                Evaluated::Array(batch.column(i).clone())
            }
            Expr::Literal(l) => Evaluated::Scalar(l.to_array()),
            Expr::Binary { op, left, right } => {
                let (l, r) = (left.eval(batch)?, right.eval(batch)?);
                let (lt, rt) = operand_types(
                    *op,
                    l.data_type(),
                    r.data_type(),
                    left.is_literal(),
                    right.is_literal(),
                )?;
                let (l, r) = (l.cast_to(&lt)?, r.cast_to(&rt)?);
                let scalar = l.is_scalar() && r.is_scalar();
                // Floats compare as IEEE 754 and pandas have it (NaN unequal to everything,
                // -0.0 == 0.0), where Arrow's kernels order them totally.
                let out = match float_compare(*op, &l, &r)? {
                    Some(out) => out,
                    None => apply(*op, l.datum().as_ref(), r.datum().as_ref())?,
                };
                if scalar {
                    Evaluated::Scalar(out)
                } else {
                    Evaluated::Array(out)
                }
            }
            Expr::Not(e) => e.eval(batch)?.map(|a| {
                let b = as_bool(&a)?;
                Ok(Arc::new(boolean::not(b)?) as ArrayRef)
            })?,
            Expr::IsNull(e) => e
                .eval(batch)?
                .map(|a| Ok(Arc::new(missing(&a)?) as ArrayRef))?,
            Expr::IsNotNull(e) => e
                .eval(batch)?
                .map(|a| Ok(Arc::new(boolean::not(&missing(&a)?)?) as ArrayRef))?,
            Expr::Cast(e, to) => e.eval(batch)?.map(|a| Ok(cast(&a, to)?))?,
            Expr::Str(e, op) => e.eval(batch)?.map(|a| string_op(&a, op))?,
            Expr::Dt(e, op) => e.eval(batch)?.map(|a| date_op(&a, *op))?,
            Expr::FillNa(e, v) => {
                let (l, r) = (e.eval(batch)?, v.eval(batch)?);
                let t = fill_type(l.data_type(), r.data_type(), v.is_literal())?;
                let (l, r) = (l.cast_to(&t)?, r.cast_to(&t)?);
                let l = match l {
                    Evaluated::Array(a) => a,
                    Evaluated::Scalar(s) => broadcast(&s, batch.num_rows())?,
                };
                let holes = missing(&l)?;
                if holes.true_count() == 0 {
                    Evaluated::Array(l)
                } else {
                    Evaluated::Array(arrow::compute::kernels::zip::zip(
                        &holes,
                        r.datum().as_ref(),
                        &l,
                    )?)
                }
            }
        })
    }
}

macro_rules! operators {
    ($($trait:ident $method:ident => $op:ident;)+) => {
        $(
            impl std::ops::$trait for Expr {
                type Output = Expr;

                fn $method(self, other: Expr) -> Expr {
                    Expr::Binary { op: BinaryOp::$op, left: Box::new(self), right: Box::new(other) }
                }
            }
        )+
    };
}

operators! {
    Add add => Add;
    Sub sub => Sub;
    Mul mul => Mul;
    Div div => Div;
    Rem rem => Rem;
    BitAnd bitand => And;
    BitOr bitor => Or;
}

impl std::ops::Not for Expr {
    type Output = Expr;

    /// Logical not.
    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column(c) => write!(f, "{c}"),
            Expr::Literal(Literal::Str(s)) => write!(f, "{s:?}"),
            Expr::Literal(Literal::Null) => write!(f, "null"),
            Expr::Literal(Literal::Bool(b)) => write!(f, "{b}"),
            Expr::Literal(Literal::Int(i)) => write!(f, "{i}"),
            Expr::Literal(Literal::Float(x)) => write!(f, "{x:?}"),
            Expr::Binary { op, left, right } => write!(f, "({left} {} {right})", op.symbol()),
            Expr::Not(e) => write!(f, "~{e}"),
            Expr::IsNull(e) => write!(f, "{e}.isna()"),
            Expr::IsNotNull(e) => write!(f, "{e}.notna()"),
            Expr::Cast(e, t) => write!(f, "{e}.astype({t})"),
            Expr::FillNa(e, v) => write!(f, "{e}.fillna({v})"),
            Expr::Str(e, op) => write!(f, "{e}.str.{op:?}"),
            Expr::Dt(e, op) => write!(f, "{e}.dt.{op:?}"),
        }
    }
}

/// A value during evaluation: a whole column, or a constant not yet broadcast.
enum Evaluated {
    Array(ArrayRef),
    Scalar(ArrayRef),
}

impl Evaluated {
    fn data_type(&self) -> &DataType {
        match self {
            Evaluated::Array(a) | Evaluated::Scalar(a) => a.data_type(),
        }
    }

    fn is_scalar(&self) -> bool {
        matches!(self, Evaluated::Scalar(_))
    }

    fn map(self, f: impl FnOnce(ArrayRef) -> Result<ArrayRef>) -> Result<Evaluated> {
        Ok(match self {
            Evaluated::Array(a) => Evaluated::Array(f(a)?),
            Evaluated::Scalar(a) => Evaluated::Scalar(f(a)?),
        })
    }

    fn cast_to(self, to: &DataType) -> Result<Evaluated> {
        if self.data_type() == to {
            return Ok(self);
        }
        // A constant written as text must parse (a date the column's type cannot read is
        // an error, never a missing value that silently matches nothing).
        let strict = self.is_scalar() && is_string(self.data_type());
        let options = arrow::compute::CastOptions {
            safe: !strict,
            ..Default::default()
        };
        self.map(|a| Ok(arrow::compute::cast_with_options(&a, to, &options)?))
    }

    fn datum(&self) -> Box<dyn Datum> {
        match self {
            Evaluated::Array(a) => Box::new(a.clone()),
            Evaluated::Scalar(a) => Box::new(Scalar::new(a.clone())),
        }
    }
}

/// `b` with its missing values false.
fn missing_false(b: BooleanArray) -> ArrayRef {
    if b.null_count() > 0 {
        Arc::new(arrow::compute::prep_null_mask_filter(&b))
    } else {
        Arc::new(b)
    }
}

fn apply(op: BinaryOp, l: &dyn Datum, r: &dyn Datum) -> Result<ArrayRef> {
    // A comparison with a missing value is false, as pandas compares (NaN > 0 is False),
    // so that `~(x > 0)` keeps the rows where `x` is missing, as pandas does.
    Ok(match op {
        BinaryOp::Add => numeric::add(l, r)?,
        BinaryOp::Sub => numeric::sub(l, r)?,
        BinaryOp::Mul => numeric::mul(l, r)?,
        BinaryOp::Div => numeric::div(l, r)?,
        BinaryOp::Rem => floor_rem(l, r)?,
        BinaryOp::Eq => missing_false(cmp::eq(l, r)?),
        BinaryOp::NotEq => {
            // A missing value is unequal to everything, as pandas' NaN != 0 is True.
            let b = cmp::neq(l, r)?;
            if b.null_count() > 0 {
                let missing = arrow::compute::is_null(&b)?;
                Arc::new(boolean::or(
                    &arrow::compute::prep_null_mask_filter(&b),
                    &missing,
                )?)
            } else {
                Arc::new(b)
            }
        }
        BinaryOp::Lt => missing_false(cmp::lt(l, r)?),
        BinaryOp::LtEq => missing_false(cmp::lt_eq(l, r)?),
        BinaryOp::Gt => missing_false(cmp::gt(l, r)?),
        BinaryOp::GtEq => missing_false(cmp::gt_eq(l, r)?),
        BinaryOp::And | BinaryOp::Or => {
            let (la, l_scalar) = l.get();
            let (ra, _) = r.get();
            let (lb, rb) = (as_bool(la)?, as_bool(ra)?);
            // Kleene kernels need equal lengths: a constant side is broadcast to the
            // other's length (which may be zero).
            let n = if l_scalar { ra.len() } else { la.len() };
            let (lb, rb) = (stretch(lb, n)?, stretch(rb, n)?);
            if op == BinaryOp::And {
                missing_false(boolean::and_kleene(&lb, &rb)?)
            } else {
                missing_false(boolean::or_kleene(&lb, &rb)?)
            }
        }
    })
}

/// A comparison of two float columns (or a column and a constant), as IEEE 754 compares:
/// NaN false to everything and unequal to everything, -0.0 equal to 0.0; a missing value
/// false (unequal: true), as pandas compares. `None` for other operations and types.
fn float_compare(op: BinaryOp, l: &Evaluated, r: &Evaluated) -> Result<Option<ArrayRef>> {
    if !op.is_comparison() || l.data_type() != r.data_type() {
        return Ok(None);
    }
    Ok(match l.data_type() {
        DataType::Float64 => Some(compare_values::<Float64Type>(op, l, r)),
        DataType::Float32 => Some(compare_values::<Float32Type>(op, l, r)),
        _ => None,
    })
}

fn compare_values<T>(op: BinaryOp, l: &Evaluated, r: &Evaluated) -> ArrayRef
where
    T: ArrowPrimitiveType,
    T::Native: PartialOrd,
{
    let (Evaluated::Array(la) | Evaluated::Scalar(la)) = l;
    let (Evaluated::Array(ra) | Evaluated::Scalar(ra)) = r;
    let (la, ra) = (la.as_primitive::<T>(), ra.as_primitive::<T>());
    let n = match (l.is_scalar(), r.is_scalar()) {
        (true, false) => ra.len(),
        _ => la.len(),
    };
    let bits = match op {
        BinaryOp::Eq => compare_bits(la, ra, n, |a, b| a == b),
        BinaryOp::NotEq => compare_bits(la, ra, n, |a, b| a != b),
        BinaryOp::Lt => compare_bits(la, ra, n, |a, b| a < b),
        BinaryOp::LtEq => compare_bits(la, ra, n, |a, b| a <= b),
        BinaryOp::Gt => compare_bits(la, ra, n, |a, b| a > b),
        _ => compare_bits(la, ra, n, |a, b| a >= b),
    };
    // Where a side is missing: false, or true for "unequal".
    let side = |a: &PrimitiveArray<T>| match a.nulls() {
        Some(nulls) if a.len() == n => Some(nulls.inner().clone()),
        Some(_) if a.is_null(0) => Some(BooleanBuffer::new_unset(n)),
        _ => None,
    };
    let valid = match (side(la), side(ra)) {
        (Some(a), Some(b)) => Some(&a & &b),
        (a, b) => a.or(b),
    };
    let bits = match valid {
        None => bits,
        Some(valid) if op == BinaryOp::NotEq => &bits | &!&valid,
        Some(valid) => &bits & &valid,
    };
    Arc::new(BooleanArray::new(bits, None))
}

/// `f` of each pair of values (a side of length 1 when `n` is not 1 is a constant).
fn compare_bits<T: ArrowPrimitiveType>(
    l: &PrimitiveArray<T>,
    r: &PrimitiveArray<T>,
    n: usize,
    f: impl Fn(T::Native, T::Native) -> bool,
) -> BooleanBuffer {
    let (lv, rv) = (l.values(), r.values());
    match (lv.len() == n, rv.len() == n) {
        (true, true) => BooleanBuffer::collect_bool(n, |i| f(lv[i], rv[i])),
        (true, false) => {
            let b = rv[0];
            BooleanBuffer::collect_bool(n, |i| f(lv[i], b))
        }
        (false, true) => {
            let a = lv[0];
            BooleanBuffer::collect_bool(n, |i| f(a, rv[i]))
        }
        (false, false) => BooleanBuffer::collect_bool(n, |_| f(lv[0], rv[0])),
    }
}

/// Whether each value is NaN (false where missing), for float arrays; `None` for others.
pub(crate) fn nan_mask(a: &ArrayRef) -> Option<BooleanArray> {
    fn of<T: ArrowPrimitiveType>(a: &ArrayRef, is_nan: fn(T::Native) -> bool) -> BooleanArray {
        let a = a.as_primitive::<T>();
        let v = a.values();
        let bits = BooleanBuffer::collect_bool(a.len(), |i| is_nan(v[i]));
        match a.nulls() {
            Some(nulls) => BooleanArray::new(&bits & nulls.inner(), None),
            None => BooleanArray::new(bits, None),
        }
    }
    match a.data_type() {
        DataType::Float64 => Some(of::<Float64Type>(a, f64::is_nan)),
        DataType::Float32 => Some(of::<Float32Type>(a, f32::is_nan)),
        _ => None,
    }
}

/// `.str`'s operation on each string of `a`.
fn string_op(a: &ArrayRef, op: &StrOp) -> Result<ArrayRef> {
    use arrow::compute::kernels::comparison as cmpk;
    let s = cast(a, &DataType::Utf8)?;
    let s = s
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| invalid("internal: a cast to strings gave something else"))?;
    let text = |t: &str| Scalar::new(StringArray::from(vec![t.to_owned()]));
    // A test of a missing string is false, as pandas' string columns answer (and as
    // comparisons with a missing value are here): `missing_false`.
    Ok(match op {
        StrOp::Contains {
            pattern,
            regex: true,
        } => missing_false(cmpk::regexp_is_match_scalar(s, pattern, None)?),
        StrOp::Contains {
            pattern,
            regex: false,
        } => missing_false(cmpk::contains(s, &text(pattern))?),
        StrOp::StartsWith(t) => missing_false(cmpk::starts_with(s, &text(t))?),
        StrOp::EndsWith(t) => missing_false(cmpk::ends_with(s, &text(t))?),
        StrOp::Lower => Arc::new(
            s.iter()
                .map(|v| v.map(str::to_lowercase))
                .collect::<StringArray>(),
        ),
        StrOp::Upper => Arc::new(
            s.iter()
                .map(|v| v.map(str::to_uppercase))
                .collect::<StringArray>(),
        ),
        StrOp::Len => Arc::new(
            s.iter()
                .map(|v| v.map(|v| v.chars().count() as i64))
                .collect::<Int64Array>(),
        ),
    })
}

/// `.dt`'s part of each date or timestamp of `a`.
fn date_op(a: &ArrayRef, op: DtOp) -> Result<ArrayRef> {
    op.check()?;
    use arrow::compute::kernels::temporal::{DatePart, date_part};
    use arrow::datatypes::TimeUnit;
    let part = match op {
        DtOp::Year => DatePart::Year,
        DtOp::Month => DatePart::Month,
        DtOp::Day => DatePart::Day,
        DtOp::Hour => DatePart::Hour,
        DtOp::Minute => DatePart::Minute,
        DtOp::Second => DatePart::Second,
        DtOp::DayOfWeek => DatePart::DayOfWeekMonday0,
        DtOp::DayOfYear => DatePart::DayOfYear,
        DtOp::Floor(_) | DtOp::WeekStart(_) | DtOp::PeriodStart { .. } => {
            use arrow::datatypes::TimestampNanosecondType as Ns;
            // Times beyond nanoseconds' range (a 9999-12-31 sentinel) are an error, not a
            // missing value that silently leaves its bin.
            let strict = arrow::compute::CastOptions {
                safe: false,
                ..Default::default()
            };
            let ns = arrow::compute::cast_with_options(
                a,
                &DataType::Timestamp(TimeUnit::Nanosecond, None),
                &strict,
            )?;
            let ns = ns.as_primitive::<Ns>();
            return Ok(Arc::new(match op {
                DtOp::Floor(period) => ns.try_unary::<_, Ns, _>(|t| {
                    t.div_euclid(period)
                        .checked_mul(period)
                        .ok_or_else(|| before_start(t))
                })?,
                DtOp::WeekStart(first) => ns.try_unary::<_, Ns, _>(|t| {
                    // 1970-01-01 was a Thursday (3).
                    let day = t.div_euclid(DAY_NS);
                    (day - (day + 3 - i64::from(first)).rem_euclid(7))
                        .checked_mul(DAY_NS)
                        .ok_or_else(|| before_start(t))
                })?,
                DtOp::PeriodStart { months, offset } => ns.try_unary::<_, Ns, _>(|t| {
                    period_start(t, months, offset).ok_or_else(|| before_start(t))
                })?,
                _ => unreachable!("a part of a date is no bin"),
            }));
        }
    };
    Ok(date_part(a.as_ref(), part)?)
}

const DAY_NS: i64 = 86_400_000_000_000;

/// The error of a bin that starts before the earliest nanosecond timestamp.
fn before_start(t: i64) -> arrow::error::ArrowError {
    arrow::error::ArrowError::ComputeError(format!(
        "the bin holding the time {t} ns starts before the earliest timestamp (1677-09-21)"
    ))
}

/// Midnight (ns since 1970) of the first day of the `months`-month period holding `t`,
/// periods starting at months `offset` + k·`months` (January 0); `None` past the range of
/// nanosecond timestamps.
fn period_start(t: i64, months: u8, offset: u8) -> Option<i64> {
    use chrono::{DateTime, Datelike, NaiveDate};
    let date = DateTime::from_timestamp_nanos(t).date_naive();
    let month = i64::from(date.year()) * 12 + i64::from(date.month0());
    let start = month - (month - i64::from(offset)).rem_euclid(i64::from(months));
    let year = i32::try_from(start.div_euclid(12)).ok()?;
    let first = NaiveDate::from_ymd_opt(year, start.rem_euclid(12) as u32 + 1, 1)?;
    first.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt()
}

/// The type of `fillna`'s result: numbers meet as arithmetic meets them (integers filled
/// with a float become floats), strings stay strings, a constant is converted to the
/// column's type where it can be (a date string into a timestamp column).
fn fill_type(t: &DataType, v: &DataType, v_literal: bool) -> Result<DataType> {
    if t == v || matches!(v, DataType::Null) {
        return Ok(t.clone());
    }
    if matches!(t, DataType::Null) {
        return Ok(v.clone());
    }
    if is_numeric(t) && is_numeric(v) {
        let (lt, _) = operand_types(BinaryOp::Add, t, v, false, v_literal)?;
        return Ok(lt);
    }
    if is_string(t) && is_string(v) {
        return Ok(DataType::Utf8);
    }
    // A date written as text fills a date or timestamp column (a string that does not
    // parse as one fails the run, never becomes a silent missing value).
    let temporal = matches!(
        t,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
    );
    if v_literal && is_string(v) && temporal {
        return Ok(t.clone());
    }
    Err(invalid(format!("cannot fill missing {t} values with {v}")))
}

/// Whether each value is missing: null, or NaN (as pandas' `isna`).
fn missing(a: &ArrayRef) -> Result<BooleanArray> {
    let null = arrow::compute::is_null(a.as_ref())?;
    let nan = nan_mask(a);
    Ok(match nan {
        Some(nan) if nan.len() == null.len() => boolean::or(&null, &nan)?,
        _ => null,
    })
}

/// `l % r` as Python and pandas compute it: the remainder takes the divisor's sign
/// (`-1 % 3 == 2`), where Arrow's kernel truncates (`-1`); an integer modulo zero is
/// missing (pandas' NaN), a float one NaN.
fn floor_rem(l: &dyn Datum, r: &dyn Datum) -> Result<ArrayRef> {
    use arrow::array::{AsArray, Float32Array};
    use arrow::datatypes::{Float32Type, Float64Type, Int64Type};
    let (la, l_scalar) = l.get();
    let (ra, r_scalar) = r.get();
    let t = la.data_type();
    if t.is_integer() && t == ra.data_type() && *t != DataType::Int64 {
        // Other integers through Int64, the remainder back in their type (it fits: it is
        // smaller than the divisor).
        let datum = |a: ArrayRef, scalar: bool| -> Box<dyn Datum> {
            if scalar {
                Box::new(Scalar::new(a))
            } else {
                Box::new(a)
            }
        };
        let out = floor_rem(
            datum(cast(la, &DataType::Int64)?, l_scalar).as_ref(),
            datum(cast(ra, &DataType::Int64)?, r_scalar).as_ref(),
        )?;
        return Ok(cast(&out, t)?);
    }
    let n = match (l_scalar, r_scalar) {
        (true, false) => ra.len(),
        (false, _) => la.len(),
        (true, true) => 1,
    };
    let at = |scalar: bool, i: usize| if scalar { 0 } else { i };
    macro_rules! float_rem {
        ($t:ty, $arr:ty) => {{
            let (a, b) = (la.as_primitive::<$t>(), ra.as_primitive::<$t>());
            let out: $arr = (0..n)
                .map(|i| {
                    let (i, j) = (at(l_scalar, i), at(r_scalar, i));
                    if a.is_null(i) || b.is_null(j) {
                        return None;
                    }
                    let (x, y) = (a.value(i), b.value(j));
                    let m = x % y;
                    Some(if m != 0.0 && (m < 0.0) != (y < 0.0) {
                        m + y
                    } else if m == 0.0 {
                        // A zero remainder carries the divisor's sign, as Python's.
                        m.copysign(y)
                    } else {
                        m
                    })
                })
                .collect();
            Arc::new(out) as ArrayRef
        }};
    }
    Ok(match (la.data_type(), ra.data_type()) {
        (DataType::Int64, DataType::Int64) => {
            let (a, b) = (
                la.as_primitive::<Int64Type>(),
                ra.as_primitive::<Int64Type>(),
            );
            let out: Int64Array = (0..n)
                .map(|i| {
                    let (i, j) = (at(l_scalar, i), at(r_scalar, i));
                    if a.is_null(i) || b.is_null(j) || b.value(j) == 0 {
                        return None;
                    }
                    let (x, y) = (a.value(i), b.value(j));
                    let m = x.wrapping_rem(y);
                    Some(if m != 0 && (m < 0) != (y < 0) {
                        m + y
                    } else {
                        m
                    })
                })
                .collect();
            Arc::new(out)
        }
        (DataType::Float64, DataType::Float64) => float_rem!(Float64Type, Float64Array),
        (DataType::Float32, DataType::Float32) => float_rem!(Float32Type, Float32Array),
        _ => numeric::rem(l, r)?,
    })
}

fn stretch(b: &BooleanArray, n: usize) -> Result<BooleanArray> {
    if b.len() == n || b.is_empty() {
        return Ok(b.clone());
    }
    let v = if b.is_null(0) { None } else { Some(b.value(0)) };
    Ok(BooleanArray::from(vec![v; n]))
}

fn as_bool(a: &dyn Array) -> Result<&BooleanArray> {
    a.as_any()
        .downcast_ref::<BooleanArray>()
        .ok_or_else(|| invalid(format!("expected booleans, got {}", a.data_type())))
}

fn broadcast(one: &ArrayRef, n: usize) -> Result<ArrayRef> {
    let indices = arrow::array::UInt32Array::from(vec![0_u32; n]);
    Ok(arrow::compute::take(one.as_ref(), &indices, None)?)
}

fn field_type(schema: &Schema, name: &str) -> Result<DataType> {
    schema
        .field_with_name(name)
        .map(|f| f.data_type().clone())
        .map_err(|_| not_found(name, schema))
}

/// [`Error::ColumnNotFound`] for `name` in `schema`.
pub(crate) fn not_found(name: &str, schema: &Schema) -> Error {
    Error::ColumnNotFound {
        name: name.to_owned(),
        available: schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_numeric(t: &DataType) -> bool {
    t.is_numeric()
}

/// The types the two operands are brought to before `op` runs: a constant takes the
/// other side's type (a string compared with a date column is parsed as a date); numbers
/// of different types meet at `Int64` or `Float64`; strings of different layouts at `Utf8`.
fn operand_types(
    op: BinaryOp,
    l: &DataType,
    r: &DataType,
    l_lit: bool,
    r_lit: bool,
) -> Result<(DataType, DataType)> {
    let mismatch = || invalid(format!("cannot apply '{}' to {l} and {r}", op.symbol()));
    if matches!(op, BinaryOp::And | BinaryOp::Or) {
        let ok = |t: &DataType| matches!(t, DataType::Boolean | DataType::Null);
        if !(ok(l) && ok(r)) {
            return Err(mismatch());
        }
        return Ok((DataType::Boolean, DataType::Boolean));
    }
    if l == r && !matches!(l, DataType::Null) {
        if !op.is_comparison() && !is_numeric(l) {
            return Err(mismatch());
        }
        if matches!(l, DataType::Decimal128(..) | DataType::Decimal256(..)) && !op.is_comparison() {
            // Decimal arithmetic changes the precision; floats keep the declared type.
            return Ok((DataType::Float64, DataType::Float64));
        }
        if op == BinaryOp::Div && !l.is_floating() {
            return Ok((DataType::Float64, DataType::Float64));
        }
        return Ok((l.clone(), r.clone()));
    }
    if matches!(l, DataType::Null) || matches!(r, DataType::Null) {
        let t = if matches!(l, DataType::Null) { r } else { l };
        return Ok((t.clone(), t.clone()));
    }
    if is_numeric(l) && is_numeric(r) {
        let decimal =
            |t: &DataType| matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..));
        // Integers meet at Int64 (a constant is never narrowed to a column's smaller type,
        // where it might not fit); floats and decimals at Float64.
        let t = if op == BinaryOp::Div
            || l.is_floating()
            || r.is_floating()
            || decimal(l)
            || decimal(r)
        {
            DataType::Float64
        } else {
            DataType::Int64
        };
        // 64-bit unsigned integers meet signed ones where both fit: a decimal of 20 digits
        // to compare, a float for arithmetic (as pandas).
        let wide = |t: &DataType| *t == DataType::UInt64;
        let t = if t == DataType::Int64 && (wide(l) || wide(r)) {
            if op.is_comparison() {
                DataType::Decimal128(20, 0)
            } else {
                DataType::Float64
            }
        } else {
            t
        };
        // A float column meets an integer constant in the column's own float type.
        let t = match (l, r) {
            (DataType::Float32, _) if r_lit && op != BinaryOp::Div => DataType::Float32,
            (_, DataType::Float32) if l_lit && op != BinaryOp::Div => DataType::Float32,
            _ => t,
        };
        return Ok((t.clone(), t));
    }
    if is_string(l) && is_string(r) && op.is_comparison() {
        return Ok((DataType::Utf8, DataType::Utf8));
    }
    if op.is_comparison() {
        // A constant of another type compared with a column: converted to the column's
        // type (a date string with a timestamp column).
        if r_lit && can_cast_types(r, l) {
            return Ok((l.clone(), l.clone()));
        }
        if l_lit && can_cast_types(l, r) {
            return Ok((r.clone(), r.clone()));
        }
    }
    Err(mismatch())
}

fn result_type(op: BinaryOp, l: &DataType, _r: &DataType) -> DataType {
    if op.is_comparison() || matches!(op, BinaryOp::And | BinaryOp::Or) {
        DataType::Boolean
    } else {
        l.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Field;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, true),
            Field::new("n", DataType::Int32, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(vec![Some(1.5), None, Some(-2.0)])),
                Arc::new(arrow::array::Int32Array::from(vec![Some(3), Some(4), None])),
                Arc::new(StringArray::from(vec![Some("a"), Some("b"), None])),
            ],
        )
        .unwrap()
    }

    fn bools(a: ArrayRef) -> Vec<Option<bool>> {
        as_bool(a.as_ref()).unwrap().iter().collect()
    }

    #[test]
    fn comparisons_and_kleene_logic_follow_arrow_and_pandas() {
        let b = batch();
        let e = col("x").gt(lit(0)).or(col("n").eq(lit(4)));
        assert_eq!(e.data_type(&b.schema()).unwrap(), DataType::Boolean);
        assert_eq!(
            bools(e.evaluate(&b).unwrap()),
            vec![Some(true), Some(true), Some(false)]
        );
        let e = col("s").eq(lit("b")).and(lit(true));
        assert_eq!(
            bools(e.evaluate(&b).unwrap()),
            vec![Some(false), Some(true), Some(false)]
        );
        // A missing value compares false, so its negation keeps the row (as pandas).
        let e = !col("n").gt(lit(3));
        assert_eq!(
            bools(e.evaluate(&b).unwrap()),
            vec![Some(true), Some(false), Some(true)]
        );
        // NaN compares false, and unequal to everything (Arrow's sort order puts it last).
        let e = col("x") / lit(0) - col("x") / lit(0);
        let nan_gt = e.clone().gt(lit(0)).evaluate(&b).unwrap();
        assert_eq!(bools(nan_gt), vec![Some(false), Some(false), Some(false)]);
        let nan_ne = e.not_eq(lit(1.0)).evaluate(&b).unwrap();
        assert_eq!(bools(nan_ne), vec![Some(true), Some(true), Some(true)]);
        // A missing value is unequal to everything (pandas' NaN != 0), and isna counts NaN.
        let ne = col("n").not_eq(lit(3)).evaluate(&b).unwrap();
        assert_eq!(bools(ne), vec![Some(false), Some(true), Some(true)]);
        let nan = (col("x") / lit(0) - col("x") / lit(0))
            .is_null()
            .evaluate(&b)
            .unwrap();
        assert_eq!(bools(nan), vec![Some(true), Some(true), Some(true)]);
        // -0.0 equals 0.0 and is not below it.
        let z = (col("x") * lit(0) * lit(-1)).evaluate(&b).unwrap();
        let zb = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("z", DataType::Float64, true)])),
            vec![z],
        )
        .unwrap();
        assert_eq!(
            bools(col("z").eq(lit(0)).evaluate(&zb).unwrap())[0],
            Some(true)
        );
        assert_eq!(
            bools(col("z").lt(lit(0)).evaluate(&zb).unwrap())[0],
            Some(false)
        );
        // A constant too large for the column's type still compares right.
        let big = col("n").lt(lit(3_000_000_000_i64)).evaluate(&b).unwrap();
        assert_eq!(bools(big), vec![Some(true), Some(true), Some(false)]);
        // A constant side of `&` on an empty batch.
        let empty = b.slice(0, 0);
        assert_eq!(
            col("x")
                .gt(lit(0))
                .and(lit(true))
                .evaluate(&empty)
                .unwrap()
                .len(),
            0
        );
        let e = !col("x").is_null();
        assert_eq!(
            bools(e.evaluate(&b).unwrap()),
            vec![Some(true), Some(false), Some(true)]
        );
    }

    #[test]
    fn arithmetic_promotes_and_divides_truly() {
        let b = batch();
        let e = col("n") / lit(2);
        assert_eq!(e.data_type(&b.schema()).unwrap(), DataType::Float64);
        let v = e.evaluate(&b).unwrap();
        let v = v.as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!(
            v.iter().collect::<Vec<_>>(),
            vec![Some(1.5), Some(2.0), None]
        );
        let e = col("x") + col("n");
        let v = e.evaluate(&b).unwrap();
        let v = v.as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!(v.iter().collect::<Vec<_>>(), vec![Some(4.5), None, None]);
    }

    #[test]
    fn modulo_takes_the_divisors_sign_as_python() {
        let schema = Arc::new(Schema::new(vec![
            arrow::datatypes::Field::new("a", DataType::Int64, true),
            arrow::datatypes::Field::new("f", DataType::Float64, true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![Some(-7), Some(7), Some(6), None])),
                Arc::new(Float64Array::from(vec![-7.5, 7.5, -6.0, 1.0])),
            ],
        )
        .unwrap();
        let ints = |e: Expr| {
            let v = e.evaluate(&b).unwrap();
            v.as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .iter()
                .collect::<Vec<_>>()
        };
        let floats = |e: Expr| {
            let v = e.evaluate(&b).unwrap();
            let v = v.as_any().downcast_ref::<Float64Array>().unwrap();
            v.iter().map(|x| x.unwrap()).collect::<Vec<_>>()
        };
        // Python: -7 % 3 == 2, 7 % -3 == -2, 6 % -3 == 0; x % 0 is missing (pandas' NaN).
        assert_eq!(
            ints(col("a") % lit(3)),
            vec![Some(2), Some(1), Some(0), None]
        );
        assert_eq!(
            ints(col("a") % lit(-3)),
            vec![Some(-1), Some(-2), Some(0), None]
        );
        assert_eq!(
            ints(lit(10) % col("a")),
            vec![Some(-4), Some(3), Some(4), None]
        );
        assert_eq!(ints(col("a") % lit(0)), vec![None, None, None, None]);
        let f = floats(col("f") % lit(2.0));
        assert_eq!(f, vec![0.5, 1.5, 0.0, 1.0]);
        let f = floats(col("f") % lit(-2.0));
        assert_eq!(f, vec![-1.5, -0.5, -0.0, -1.0]);
        assert!(f[2].is_sign_negative());
        assert!(floats(col("f") % lit(0.0)).iter().all(|x| x.is_nan()));
        // Narrower integers: the same rule, in their own type.
        let schema = Arc::new(Schema::new(vec![
            arrow::datatypes::Field::new("a", DataType::Int32, true),
            arrow::datatypes::Field::new("b", DataType::Int32, true),
        ]));
        let b32 = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(arrow::array::Int32Array::from(vec![-7, 7, 5])),
                Arc::new(arrow::array::Int32Array::from(vec![3, -3, 0])),
            ],
        )
        .unwrap();
        let e = col("a") % col("b");
        assert_eq!(e.data_type(&b32.schema()).unwrap(), DataType::Int32);
        let v = e.evaluate(&b32).unwrap();
        let v = v
            .as_any()
            .downcast_ref::<arrow::array::Int32Array>()
            .unwrap();
        assert_eq!(v.iter().collect::<Vec<_>>(), vec![Some(2), Some(-2), None]);
    }

    #[test]
    fn bad_columns_and_types_are_named() {
        let b = batch();
        let err = col("z").gt(lit(1)).data_type(&b.schema()).unwrap_err();
        assert!(
            matches!(err, Error::ColumnNotFound { ref name, .. } if name == "z"),
            "{err}"
        );
        assert!(err.to_string().contains("x, n, s"), "{err}");
        let err = (col("s") + lit(1)).data_type(&b.schema()).unwrap_err();
        assert!(err.to_string().contains("cannot apply '+'"), "{err}");
        assert!(col("x").and(lit(true)).data_type(&b.schema()).is_err());
    }

    proptest::proptest! {
        /// Float comparisons, column with column and with constants, as IEEE 754 and
        /// pandas compare: NaN false (unequal: true), -0.0 == 0.0, missing false
        /// (unequal: true).
        #[test]
        fn float_comparisons_as_ieee_and_pandas(
            rows in proptest::collection::vec(
                (value(), value()),
                0..30,
            ),
            constant in proptest::prelude::prop_oneof![
                proptest::prelude::Just(0.0), proptest::prelude::Just(-0.0),
                proptest::prelude::Just(f64::NAN), -2.0..2.0_f64,
            ],
            op in 0_usize..6,
            f32s in proptest::prelude::any::<bool>(),
        ) {
            let (a, b): (Vec<Option<f64>>, Vec<Option<f64>>) = rows.into_iter().unzip();
            let column = |v: &[Option<f64>]| -> ArrayRef {
                let a: ArrayRef = Arc::new(Float64Array::from(v.to_vec()));
                if f32s { cast(&a, &DataType::Float32).unwrap() } else { a }
            };
            let t = if f32s { DataType::Float32 } else { DataType::Float64 };
            let batch = RecordBatch::try_new(
                Arc::new(Schema::new(vec![Field::new("a", t.clone(), true), Field::new("b", t, true)])),
                vec![column(&a), column(&b)],
            ).unwrap();
            type Case = (fn(Expr, Expr) -> Expr, fn(f64, f64) -> bool, bool);
            let ops: [Case; 6] = [
                (Expr::eq, |x, y| x == y, false),
                (Expr::not_eq, |x, y| x != y, true),
                (Expr::lt, |x, y| x < y, false),
                (Expr::lt_eq, |x, y| x <= y, false),
                (Expr::gt, |x, y| x > y, false),
                (Expr::gt_eq, |x, y| x >= y, false),
            ];
            let (build, f, missing) = ops[op];
            let c = if f32s { f64::from(constant as f32) } else { constant };
            let want = |l: &dyn Fn(usize) -> Option<f64>, r: &dyn Fn(usize) -> Option<f64>| {
                (0..a.len()).map(|i| Some(match (l(i), r(i)) {
                    (Some(x), Some(y)) => f(x, y),
                    _ => missing,
                })).collect::<Vec<_>>()
            };
            let got = bools(build(col("a"), col("b")).evaluate(&batch).unwrap());
            proptest::prop_assert_eq!(got, want(&|i| a[i], &|i| b[i]));
            let got = bools(build(col("a"), lit(constant)).evaluate(&batch).unwrap());
            proptest::prop_assert_eq!(got, want(&|i| a[i], &|_| Some(c)));
            let got = bools(build(lit(constant), col("b")).evaluate(&batch).unwrap());
            proptest::prop_assert_eq!(got, want(&|_| Some(c), &|i| b[i]));
            let got = bools(build(col("a"), Expr::Literal(Literal::Null)).evaluate(&batch).unwrap());
            proptest::prop_assert_eq!(got, want(&|i| a[i], &|_| None));
        }
    }

    fn value() -> impl proptest::strategy::Strategy<Value = Option<f64>> {
        use proptest::prelude::*;
        prop_oneof![
            Just(None),
            Just(Some(0.0)),
            Just(Some(-0.0)),
            Just(Some(f64::NAN)),
            Just(Some(f64::INFINITY)),
            (-2.0..2.0_f64).prop_map(Some),
        ]
    }

    proptest::proptest! {
        /// A week's or calendar period's start is the midnight that starts the bin holding
        /// the timestamp: at or before it, on the week's first day or a period's first
        /// month, with the next bin's start after it.
        #[test]
        fn calendar_bins_hold_their_timestamps(
            t in -6_000_000_000_000_000_000_i64..6_000_000_000_000_000_000,
            first in 0_u8..7,
            months in proptest::sample::select(vec![1_u8, 2, 3, 4, 6, 12]),
            offset in 0_u8..12,
        ) {
            use chrono::{DateTime, Datelike, Months};
            let offset = offset % months;
            let batch = RecordBatch::try_new(
                Arc::new(Schema::new(vec![Field::new(
                    "t",
                    DataType::Timestamp(arrow::datatypes::TimeUnit::Nanosecond, None),
                    true,
                )])),
                vec![Arc::new(arrow::array::TimestampNanosecondArray::from(vec![t]))],
            )
            .unwrap();
            let at = |op: DtOp| {
                let a = col("t").dt(op).evaluate(&batch).unwrap();
                a.as_primitive::<arrow::datatypes::TimestampNanosecondType>().value(0)
            };
            let week = at(DtOp::WeekStart(first));
            proptest::prop_assert!(week <= t && t - week < 7 * DAY_NS && week % DAY_NS == 0);
            let day = DateTime::from_timestamp_nanos(week);
            proptest::prop_assert_eq!(day.weekday().num_days_from_monday(), u32::from(first));
            let start = at(DtOp::PeriodStart { months, offset });
            let begins = DateTime::from_timestamp_nanos(start);
            proptest::prop_assert!(start <= t && start % DAY_NS == 0 && begins.day() == 1);
            proptest::prop_assert_eq!(begins.month0() % u32::from(months), u32::from(offset));
            let next = begins.checked_add_months(Months::new(u32::from(months))).unwrap();
            proptest::prop_assert!(next.timestamp_nanos_opt().is_none_or(|n| n > t));
        }
    }

    #[test]
    fn a_date_written_as_text_must_parse() {
        let t = arrow::array::TimestampNanosecondArray::from(vec![Some(0), None]);
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "t",
                DataType::Timestamp(arrow::datatypes::TimeUnit::Nanosecond, None),
                true,
            )])),
            vec![Arc::new(t)],
        )
        .unwrap();
        let ok = col("t")
            .gt_eq(lit("1970-01-01T00:00:00"))
            .evaluate(&b)
            .unwrap();
        assert_eq!(bools(ok), vec![Some(true), Some(false)]);
        let err = col("t").gt_eq(lit("not a date")).evaluate(&b).unwrap_err();
        assert!(err.to_string().contains("not a date"), "{err}");
        assert!(col("t").fillna(lit("soon")).evaluate(&b).is_err());
    }
}
