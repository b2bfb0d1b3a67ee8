//! Types of the rule language, as the checker sees them.

use crate::syntax::ast::TypeExpr;

/// The declared type of a record field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldTy {
    Text,
    Int,
    Date,
    Bool,
    Enum(Vec<String>),
    List(Box<FieldTy>),
    Group,
}

impl FieldTy {
    pub fn from_ast(t: &TypeExpr) -> FieldTy {
        match t {
            TypeExpr::Text => FieldTy::Text,
            TypeExpr::Int => FieldTy::Int,
            TypeExpr::Date => FieldTy::Date,
            TypeExpr::Bool => FieldTy::Bool,
            TypeExpr::Enum(v) => FieldTy::Enum(v.iter().map(|i| i.name.clone()).collect()),
            TypeExpr::List(inner) => FieldTy::List(Box::new(FieldTy::from_ast(inner))),
            TypeExpr::Group(_) => FieldTy::Group,
        }
    }

    /// Text, or a list of text: what `max(N)` and `digits(N)` apply to.
    pub fn is_text(&self) -> bool {
        match self {
            FieldTy::Text => true,
            FieldTy::List(inner) => **inner == FieldTy::Text,
            _ => false,
        }
    }

    pub fn to_ty(&self) -> Ty {
        match self {
            FieldTy::Text => Ty::Text,
            FieldTy::Int => Ty::Int,
            FieldTy::Date => Ty::Date,
            FieldTy::Bool => Ty::Bool,
            FieldTy::Enum(v) => Ty::Enum(v.clone()),
            FieldTy::List(inner) => Ty::List(Box::new(inner.to_ty())),
            FieldTy::Group => Ty::Group,
        }
    }
}

/// The type of an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Text,
    Int,
    Date,
    Bool,
    /// A number with decimals (probabilities and weights).
    Float,
    Regex,
    Enum(Vec<String>),
    List(Box<Ty>),
    Set(Box<Ty>),
    Map,
    Group,
    /// Unknown because of an earlier error; compatible with everything, so errors do not cascade.
    Any,
}

impl Ty {
    /// Whether a value of this type can stand where `other` is expected (enums are text).
    pub fn compatible(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Any, _) | (_, Ty::Any) => true,
            (Ty::Enum(_) | Ty::Text, Ty::Enum(_) | Ty::Text) => true,
            (Ty::Int | Ty::Float, Ty::Int | Ty::Float) => true,
            (Ty::List(a), Ty::List(b)) | (Ty::Set(a), Ty::Set(b)) => a.compatible(b),
            (a, b) => a == b,
        }
    }

    /// The type in words, for diagnostics read by policy staff.
    pub fn describe(&self) -> String {
        match self {
            Ty::Text => String::from("text"),
            Ty::Int => String::from("a number"),
            Ty::Float => String::from("a number with decimals"),
            Ty::Date => String::from("a date"),
            Ty::Bool => String::from("a condition (yes/no)"),
            Ty::Regex => String::from("a pattern"),
            Ty::Enum(v) => format!("a choice ({})", v.join(", ")),
            Ty::List(t) => format!("a list of {}", t.describe()),
            Ty::Set(t) => format!("a set of {}", t.describe()),
            Ty::Map => String::from("a map"),
            Ty::Group => String::from("a group of fields"),
            Ty::Any => String::from("unknown"),
        }
    }
}
