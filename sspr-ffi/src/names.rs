//! Enums that cross by their stable names: a variant of a binding's enum is named as the core
//! names its value (`UnlockOnly` is `"unlock_only"`, the core's `as_str` / `FromStr` /
//! `Error::code`), so a value crosses between the core and a binding by that name, and no
//! binding writes a table of names or a match per enum. Both doors declare their enums with
//! [`named_enum!`]: the C API's `#[repr(C)]` enums and uniffi's.

use std::str::FromStr;

/// An enum whose variants are named as the core names their values.
pub(crate) trait Named: Copy + PartialEq + Sized + 'static {
    /// Every variant, with its name as written in Rust, in declaration order.
    const VARIANTS: &'static [(Self, &'static str)];

    /// The variant's name in snake_case: the core's name of the value it stands for.
    fn snake_name(self) -> String {
        let ident = Self::VARIANTS.iter().find(|(v, _)| *v == self).map_or("", |(_, i)| i);
        let mut out = String::with_capacity(ident.len() + 4);
        for (i, c) in ident.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    /// The variant standing for the core's value named `name`, if this enum has one.
    fn from_core_name(name: &str) -> Option<Self> {
        Self::VARIANTS.iter().map(|(v, _)| *v).find(|v| v.snake_name() == name)
    }

    /// The core's value this variant stands for (`None` for a variant of the binding's own,
    /// such as C's `NONE` or a catch-all `Other` the core does not have).
    fn to_core<T: FromStr>(self) -> Option<T> {
        self.snake_name().parse().ok()
    }
}

/// An enum and its [`Named`] table from one declaration (the attributes and variants as
/// written). With `for CoreType else Fallback`, also `From<CoreType>` (a core value this enum
/// has no variant for, from a newer core, becomes `Fallback`).
macro_rules! named_enum {
    (
        $(#[$attr:meta])*
        pub enum $name:ident for $core:path, else $fallback:ident {
            $( $(#[$vattr:meta])* $variant:ident $(= $value:literal)?, )+
        }
    ) => {
        named_enum! {
            $(#[$attr])*
            pub enum $name {
                $( $(#[$vattr])* $variant $(= $value)?, )+
            }
        }

        impl From<$core> for $name {
            fn from(value: $core) -> Self {
                <Self as $crate::names::Named>::from_core_name(value.as_str()).unwrap_or(Self::$fallback)
            }
        }
    };
    (
        $(#[$attr:meta])*
        pub enum $name:ident {
            $( $(#[$vattr:meta])* $variant:ident $(= $value:literal)?, )+
        }
    ) => {
        $(#[$attr])*
        pub enum $name {
            $( $(#[$vattr])* $variant $(= $value)?, )+
        }

        impl $crate::names::Named for $name {
            const VARIANTS: &'static [(Self, &'static str)] = &[$((Self::$variant, stringify!($variant)),)+];
        }
    };
}
