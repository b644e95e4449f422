//! Request-body decoding with Go's rules: JSON object keys match struct fields
//! case-insensitively (python-consul sends `lockdelay`, `behavior`, `ttl`), and snake_case
//! spellings match too (`enable_tag_override` for `EnableTagOverride`), as Consul's decoders
//! accept both.
//!
//! Serde hands `deserialize_struct` the list of field names, so one wrapper deserializer can
//! rename keys for every struct in the tree without per-type alias lists.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Value};

/// Decodes `value` into `T`, matching struct field names case-insensitively and ignoring `_`.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    T::deserialize(CaseInsensitive(value))
}

/// Parses JSON bytes and decodes them with [`from_value`].
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let value: Value = serde_json::from_slice(bytes)?;
    from_value(value)
}

fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn rename_keys(map: Map<String, Value>, fields: &'static [&'static str]) -> Map<String, Value> {
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        let name = if fields.contains(&key.as_str()) {
            key
        } else {
            let wanted = normalize(&key);
            match fields.iter().find(|f| normalize(f) == wanted) {
                Some(field) => (*field).to_string(),
                None => key,
            }
        };
        out.insert(name, value);
    }
    out
}

struct CaseInsensitive(Value);

impl<'de> de::Deserializer<'de> for CaseInsensitive {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Seq(items.into_iter())),
            Value::Object(map) => visitor.visit_map(Entries::new(map)),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries::new(rename_keys(map, fields))),
            // Go decodes `null` into a struct as its zero value.
            Value::Null => visitor.visit_map(Entries::new(Map::new())),
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(CaseInsensitive(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    /// `null` is an empty list, as a nil slice is in Go (Consul renders `"Tags": null`, and
    /// clients send it back).
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_seq(Seq(Vec::new().into_iter())),
            other => CaseInsensitive(other).deserialize_any(visitor),
        }
    }

    /// `null` is an empty map, as a nil map is in Go.
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_map(Entries::new(Map::new())),
            other => CaseInsensitive(other).deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct identifier
    }
}

struct Seq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Seq {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        match self.0.next() {
            Some(value) => seed.deserialize(CaseInsensitive(value)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries {
    iter: serde_json::map::IntoIter,
    pending: Option<Value>,
}

impl Entries {
    fn new(map: Map<String, Value>) -> Self {
        Entries {
            iter: map.into_iter(),
            pending: None,
        }
    }
}

impl<'de> MapAccess<'de> for Entries {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.iter.next() {
            Some((key, value)) => {
                self.pending = Some(value);
                let key_de: de::value::StringDeserializer<serde_json::Error> =
                    key.into_deserializer();
                seed.deserialize(key_de).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self.pending.take().unwrap_or(Value::Null);
        seed.deserialize(CaseInsensitive(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct Inner {
        #[serde(rename = "ID")]
        id: String,
        enable_tag_override: bool,
    }

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(rename_all = "PascalCase", default)]
    struct Outer {
        name: String,
        lock_delay: Option<u64>,
        meta: BTreeMap<String, String>,
        inner: Option<Inner>,
        list: Vec<Inner>,
    }

    #[test]
    fn matches_fields_case_insensitively_and_snake_case() {
        let value = serde_json::json!({
            "name": "a", "LOCKDELAY": 5, "Meta": {"lowerKey": "v"},
            "inner": {"id": "x", "enable_tag_override": true},
            "List": [{"Id": "y"}]
        });
        let outer: Outer = from_value(value).expect("decodes");
        assert_eq!(outer.name, "a");
        assert_eq!(outer.lock_delay, Some(5));
        assert_eq!(
            outer.meta.get("lowerKey").map(String::as_str),
            Some("v"),
            "map keys are not renamed"
        );
        assert_eq!(
            outer.inner,
            Some(Inner {
                id: "x".into(),
                enable_tag_override: true
            })
        );
        assert_eq!(outer.list[0].id, "y");
    }

    #[test]
    fn null_lists_maps_and_structs_are_empty_as_in_go() {
        #[derive(Debug, Deserialize, Default)]
        #[serde(rename_all = "PascalCase", default)]
        struct Holder {
            inner: Inner,
        }
        let value = serde_json::json!({"List": null, "Meta": null, "Inner": null});
        let outer: Outer = from_value(value).expect("decodes");
        assert!(outer.list.is_empty() && outer.meta.is_empty() && outer.inner.is_none());
        let holder: Holder = from_value(serde_json::json!({"Inner": null})).expect("decodes");
        assert_eq!(holder.inner, Inner::default());
    }

    #[test]
    fn wrong_types_are_errors() {
        let value = serde_json::json!({"Name": 5});
        assert!(from_value::<Outer>(value).is_err());
    }
}
