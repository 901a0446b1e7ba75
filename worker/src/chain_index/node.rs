//! SCALE values decoded by their metadata type into a light tree, [`Node`], for the chain
//! index: the shape of `scale-value`'s `Value` (composites, variants, primitives), but byte
//! strings and accounts are read whole, names are borrowed from the metadata and no type id is
//! kept per value. A block of transfers names ~1,000 accounts; as `Value`s each is 32 boxed
//! bytes, which made generic decoding most of a backfill's decoding time.

use std::fmt::Write as _;

use codec::{Compact, Decode};
use scale_decode::{
	visitor::{self, types, DecodeAsTypeResult, DecodeError, TypeIdFor},
	Visitor,
};
use scale_info::{form::PortableForm, PortableRegistry, Type, TypeDef, TypeDefPrimitive};
use sp_core::crypto::AccountId32;

/// A decoded value. Names live as long as the metadata (`'r`).
#[derive(Clone, Debug, PartialEq)]
pub enum Node<'r> {
	/// A `bool`.
	Bool(bool),
	/// A `char`.
	Char(char),
	/// A string.
	Str(String),
	/// Any unsigned integer.
	Unsigned(u128),
	/// Any signed integer.
	Signed(i128),
	/// A 256-bit integer, as its bytes.
	Wide([u8; 32]),
	/// A bit sequence, as `0`s and `1`s.
	Bits(String),
	/// An array or sequence of `u8`, or a struct of one field that is one.
	Bytes(Vec<u8>),
	/// An `AccountId32`.
	Account(AccountId32),
	/// A struct, tuple, array or sequence.
	Composite(Fields<'r>),
	/// An enum's variant, by name, with its fields.
	Variant(&'r str, Fields<'r>),
}

/// The fields of a composite or variant.
#[derive(Clone, Debug, PartialEq)]
pub enum Fields<'r> {
	/// Named fields, in order.
	Named(Vec<(&'r str, Node<'r>)>),
	/// Unnamed fields (or none), in order.
	Unnamed(Vec<Node<'r>>),
}

impl<'r> Fields<'r> {
	/// How many fields.
	pub fn len(&self) -> usize {
		match self {
			Self::Named(f) => f.len(),
			Self::Unnamed(f) => f.len(),
		}
	}

	/// Whether there are none.
	pub fn is_empty(&self) -> bool {
		self.len() == 0
	}

	/// The field `name`, if the fields are named.
	pub fn get(&self, name: &str) -> Option<&Node<'r>> {
		match self {
			Self::Named(fields) => fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v),
			Self::Unnamed(_) => None,
		}
	}

	/// The field `name`, taken out.
	pub fn take(self, name: &str) -> Option<Node<'r>> {
		match self {
			Self::Named(fields) => fields.into_iter().find(|(n, _)| *n == name).map(|(_, v)| v),
			Self::Unnamed(_) => None,
		}
	}

	/// The first field, taken out.
	pub fn into_first(self) -> Option<Node<'r>> {
		match self {
			Self::Named(fields) => fields.into_iter().next().map(|(_, v)| v),
			Self::Unnamed(fields) => fields.into_iter().next(),
		}
	}

	/// The first field.
	pub fn first(&self) -> Option<&Node<'r>> {
		match self {
			Self::Named(fields) => fields.first().map(|(_, v)| v),
			Self::Unnamed(fields) => fields.first(),
		}
	}
}

impl<'r> Node<'r> {
	/// Decodes `bytes` (advancing them) as the type `ty` of `types`.
	pub fn decode(bytes: &mut &[u8], ty: u32, types: &'r PortableRegistry) -> Result<Self, DecodeError> {
		visitor::decode_with_visitor(bytes, ty, types, NodeVisitor)
	}

	/// An unsigned integer, through newtypes (`Compact`, wrappers).
	pub fn number(&self) -> Option<u128> {
		match self {
			Self::Unsigned(n) => Some(*n),
			Self::Composite(c) if c.len() == 1 => c.first().and_then(Self::number),
			Self::Bytes(b) if b.len() == 1 => Some(b[0].into()),
			_ => None,
		}
	}

	/// The account, if this is one.
	pub fn account(&self) -> Option<&AccountId32> {
		match self {
			Self::Account(a) => Some(a),
			_ => None,
		}
	}

	/// As JSON, accounts written by `ss58`: byte strings in `0x` hex, newtypes as their field,
	/// variants without fields as their name, others as `{"Name": fields}`; integers that fit
	/// 64 bits as numbers, larger ones as decimal strings.
	pub fn json(&self, ss58: &impl Fn(&AccountId32) -> String, out: &mut String) {
		match self {
			Self::Account(a) => string_json(&ss58(a), out),
			Self::Bytes(bytes) => {
				out.push_str("\"0x");
				for b in bytes {
					let _ = write!(out, "{b:02x}");
				}
				out.push('"');
			},
			Self::Composite(c) => c.json(ss58, out),
			Self::Variant(name, fields) if fields.is_empty() => string_json(name, out),
			Self::Variant(name, fields) => {
				out.push('{');
				string_json(name, out);
				out.push(':');
				fields.json(ss58, out);
				out.push('}');
			},
			Self::Bits(bits) => string_json(bits, out),
			Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
			Self::Char(c) => string_json(&c.to_string(), out),
			Self::Str(s) => string_json(s, out),
			Self::Unsigned(n) if *n <= i64::MAX as u128 => {
				let _ = write!(out, "{n}");
			},
			Self::Signed(n) if i64::try_from(*n).is_ok() => {
				let _ = write!(out, "{n}");
			},
			Self::Unsigned(n) => string_json(&n.to_string(), out),
			Self::Signed(n) => string_json(&n.to_string(), out),
			Self::Wide(b) => string_json(&format!("0x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>()), out),
		}
	}
}

impl Fields<'_> {
	/// As JSON: named fields as an object, one unnamed field as itself, others as an array.
	pub fn json(&self, ss58: &impl Fn(&AccountId32) -> String, out: &mut String) {
		match self {
			Self::Named(fields) => {
				out.push('{');
				for (i, (name, v)) in fields.iter().enumerate() {
					if i > 0 {
						out.push(',');
					}
					string_json(name, out);
					out.push(':');
					v.json(ss58, out);
				}
				out.push('}');
			},
			Self::Unnamed(values) if values.len() == 1 => values[0].json(ss58, out),
			Self::Unnamed(values) => {
				out.push('[');
				for (i, v) in values.iter().enumerate() {
					if i > 0 {
						out.push(',');
					}
					v.json(ss58, out);
				}
				out.push(']');
			},
		}
	}
}

/// `s` as a JSON string.
pub fn string_json(s: &str, out: &mut String) {
	out.push('"');
	for c in s.chars() {
		match c {
			'"' => out.push_str("\\\""),
			'\\' => out.push_str("\\\\"),
			c if (c as u32) < 0x20 => {
				let _ = write!(out, "\\u{:04x}", c as u32);
			},
			c => out.push(c),
		}
	}
	out.push('"');
}

fn is_u8(types: &PortableRegistry, ty: u32) -> bool {
	matches!(types.resolve(ty).map(|t| &t.type_def), Some(TypeDef::Primitive(TypeDefPrimitive::U8)))
}

/// Whether `ty` is an `AccountId32`: a struct of that name holding 32 bytes.
fn is_account(types: &PortableRegistry, ty: &Type<PortableForm>) -> bool {
	ty.path.segments.last().map(String::as_str) == Some("AccountId32")
		&& matches!(&ty.type_def, TypeDef::Composite(c) if c.fields.len() == 1
			&& matches!(types.resolve(c.fields[0].ty.id).map(|t| &t.type_def), Some(TypeDef::Array(a)) if a.len == 32 && is_u8(types, a.type_param.id)))
}

/// Takes `n` bytes off `input`.
fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], DecodeError> {
	if input.len() < n {
		return Err(DecodeError::NotEnoughInput);
	}
	let (head, rest) = input.split_at(n);
	*input = rest;
	Ok(head)
}

/// Builds [`Node`]s.
#[derive(Clone, Copy)]
struct NodeVisitor;

impl NodeVisitor {
	fn fields<'r>(composite: &mut types::Composite<'_, 'r, PortableRegistry>) -> Result<Fields<'r>, DecodeError> {
		let len = composite.remaining();
		if len > 0 && !composite.has_unnamed_fields() {
			let mut fields = Vec::with_capacity(len);
			while let Some(name) = composite.peek_name() {
				match composite.decode_item(NodeVisitor) {
					Some(v) => fields.push((name, v?)),
					None => break,
				}
			}
			Ok(Fields::Named(fields))
		} else {
			let mut values = Vec::with_capacity(len);
			while let Some(v) = composite.decode_item(NodeVisitor) {
				values.push(v?);
			}
			Ok(Fields::Unnamed(values))
		}
	}
}

macro_rules! items {
	($value:ident) => {{
		let mut values = Vec::with_capacity($value.remaining());
		while let Some(v) = $value.decode_item(NodeVisitor) {
			values.push(v?);
		}
		Ok(Node::Composite(Fields::Unnamed(values)))
	}};
}

/// The visits of scalars: each becomes its variant of [`Node`] (integers widened).
macro_rules! visit_scalars {
	($($visit:ident($t:ty) => $variant:ident,)*) => {$(
		fn $visit<'scale, 'resolver>(self, value: $t, _: TypeIdFor<Self>) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
			Ok(Node::$variant(value.into()))
		}
	)*};
}

impl Visitor for NodeVisitor {
	type Value<'scale, 'resolver> = Node<'resolver>;
	type Error = DecodeError;
	type TypeResolver = PortableRegistry;

	// Byte strings and accounts whole, without visiting each byte.
	fn unchecked_decode_as_type<'scale, 'resolver>(
		self,
		input: &mut &'scale [u8],
		type_id: TypeIdFor<Self>,
		types: &'resolver PortableRegistry,
	) -> DecodeAsTypeResult<Self, Result<Self::Value<'scale, 'resolver>, Self::Error>> {
		let Some(ty) = types.resolve(type_id) else { return DecodeAsTypeResult::Skipped(self) };
		let node = match &ty.type_def {
			TypeDef::Array(a) if is_u8(types, a.type_param.id) => take(input, a.len as usize).map(|b| Node::Bytes(b.to_vec())),
			TypeDef::Sequence(s) if is_u8(types, s.type_param.id) => Compact::<u32>::decode(input)
				.map_err(DecodeError::CodecError)
				.and_then(|len| take(input, len.0 as usize))
				.map(|b| Node::Bytes(b.to_vec())),
			TypeDef::Composite(_) if is_account(types, ty) => {
				take(input, 32).and_then(|b| <[u8; 32]>::try_from(b).map_err(|_| DecodeError::NotEnoughInput)).map(|b| Node::Account(b.into()))
			},
			_ => return DecodeAsTypeResult::Skipped(self),
		};
		DecodeAsTypeResult::Decoded(node)
	}

	visit_scalars! {
		visit_bool(bool) => Bool,
		visit_char(char) => Char,
		visit_u8(u8) => Unsigned,
		visit_u16(u16) => Unsigned,
		visit_u32(u32) => Unsigned,
		visit_u64(u64) => Unsigned,
		visit_u128(u128) => Unsigned,
		visit_i8(i8) => Signed,
		visit_i16(i16) => Signed,
		visit_i32(i32) => Signed,
		visit_i64(i64) => Signed,
		visit_i128(i128) => Signed,
	}
	fn visit_u256<'resolver>(self, value: &[u8; 32], _: TypeIdFor<Self>) -> Result<Self::Value<'_, 'resolver>, Self::Error> {
		Ok(Node::Wide(*value))
	}
	fn visit_i256<'resolver>(self, value: &[u8; 32], _: TypeIdFor<Self>) -> Result<Self::Value<'_, 'resolver>, Self::Error> {
		Ok(Node::Wide(*value))
	}
	fn visit_sequence<'scale, 'resolver>(
		self,
		value: &mut types::Sequence<'scale, 'resolver, PortableRegistry>,
		_: TypeIdFor<Self>,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		items!(value)
	}
	fn visit_tuple<'scale, 'resolver>(
		self,
		value: &mut types::Tuple<'scale, 'resolver, PortableRegistry>,
		_: TypeIdFor<Self>,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		items!(value)
	}
	fn visit_array<'scale, 'resolver>(
		self,
		value: &mut types::Array<'scale, 'resolver, PortableRegistry>,
		_: TypeIdFor<Self>,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		items!(value)
	}
	fn visit_bitsequence<'scale, 'resolver>(
		self,
		value: &mut types::BitSequence<'scale>,
		_: TypeIdFor<Self>,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		let mut bits = String::new();
		for bit in value.decode()? {
			bits.push(if bit? { '1' } else { '0' });
		}
		Ok(Node::Bits(bits))
	}
	fn visit_str<'scale, 'resolver>(self, value: &mut types::Str<'scale>, _: TypeIdFor<Self>) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		Ok(Node::Str(value.as_str()?.to_owned()))
	}
	fn visit_variant<'scale, 'resolver>(
		self,
		value: &mut types::Variant<'scale, 'resolver, PortableRegistry>,
		_: TypeIdFor<Self>,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		let name = value.name();
		Ok(Node::Variant(name, Self::fields(value.fields())?))
	}
	fn visit_composite<'scale, 'resolver>(
		self,
		value: &mut types::Composite<'scale, 'resolver, PortableRegistry>,
		_: TypeIdFor<Self>,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		let fields = Self::fields(value)?;
		// A struct of one field that is a byte string (or an account, as its bytes) is that
		// byte string.
		if fields.len() == 1 && matches!(fields.first(), Some(Node::Bytes(_) | Node::Account(_))) {
			return Ok(match fields.into_first() {
				Some(Node::Account(a)) => Node::Bytes(<[u8; 32]>::from(a).to_vec()),
				Some(bytes) => bytes,
				None => Node::Composite(Fields::Unnamed(Vec::new())),
			});
		}
		Ok(Node::Composite(fields))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Encode;
	use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
	use rand::{RngExt, SeedableRng};
	use rand_chacha::ChaCha8Rng;
	use scale_info::TypeDefPrimitive as P;
	use scale_value::{Composite, Primitive, Value, ValueDef};
	use sp_core::crypto::Ss58Codec;

	/// Random SCALE bytes of type `ty` (short sequences; deep values kept small).
	fn random(types: &PortableRegistry, ty: u32, rng: &mut ChaCha8Rng, depth: u32, out: &mut Vec<u8>) {
		let def = &types.resolve(ty).expect("a type of the registry").type_def;
		match def {
			TypeDef::Composite(c) => c.fields.iter().for_each(|f| random(types, f.ty.id, rng, depth + 1, out)),
			TypeDef::Variant(v) => {
				// Deep down, the variant with the fewest fields, so that recursive types end.
				let variant = if depth > 6 {
					v.variants.iter().min_by_key(|v| v.fields.len()).expect("a variant")
				} else {
					&v.variants[rng.random_range(0..v.variants.len())]
				};
				out.push(variant.index);
				variant.fields.iter().for_each(|f| random(types, f.ty.id, rng, depth + 1, out));
			},
			TypeDef::Sequence(s) => {
				let len = if depth > 6 { 0 } else { rng.random_range(0..4u32) };
				Compact(len).encode_to(out);
				(0..len).for_each(|_| random(types, s.type_param.id, rng, depth + 1, out));
			},
			TypeDef::Array(a) => (0..a.len).for_each(|_| random(types, a.type_param.id, rng, depth + 1, out)),
			TypeDef::Tuple(t) => t.fields.iter().for_each(|f| random(types, f.id, rng, depth + 1, out)),
			TypeDef::Primitive(p) => {
				let wide = |rng: &mut ChaCha8Rng, n: usize, out: &mut Vec<u8>| {
					// Small and large magnitudes alike: the JSON of each differs.
					let bytes: Vec<u8> = (0..n).map(|i| if i < 2 || rng.random_bool(0.3) { rng.random() } else { 0 }).collect();
					out.extend(bytes);
				};
				match p {
					P::Bool => out.push(rng.random_range(0..2)),
					P::Char => (rng.random_range(0x20u32..0x7f)).encode_to(out),
					P::Str => ["", "a\"b", "x\\y\n", "name"][rng.random_range(0..4)].encode_to(out),
					P::U8 | P::I8 => wide(rng, 1, out),
					P::U16 | P::I16 => wide(rng, 2, out),
					P::U32 | P::I32 => wide(rng, 4, out),
					P::U64 | P::I64 => wide(rng, 8, out),
					P::U128 | P::I128 => wide(rng, 16, out),
					P::U256 | P::I256 => wide(rng, 32, out),
				}
			},
			TypeDef::Compact(c) => {
				let n: u128 = if rng.random_bool(0.5) { rng.random_range(0..100) } else { rng.random::<u64>().into() };
				// A compact of a primitive or of a newtype over one: its integer's compact.
				let inner = match &types.resolve(c.type_param.id).expect("a type").type_def {
					TypeDef::Composite(c) => types.resolve(c.fields[0].ty.id).map(|t| t.type_def.clone()),
					other => Some(other.clone()),
				};
				match inner {
					Some(TypeDef::Primitive(P::U8)) => Compact(n as u8).encode_to(out),
					Some(TypeDef::Primitive(P::U16)) => Compact(n as u16).encode_to(out),
					Some(TypeDef::Primitive(P::U32)) => Compact(n as u32).encode_to(out),
					Some(TypeDef::Primitive(P::U64)) => Compact(n as u64).encode_to(out),
					_ => Compact(n).encode_to(out),
				}
			},
			TypeDef::BitSequence(_) => Compact(0u32).encode_to(out),
		}
	}

	/// The JSON the chain index wrote before it had its own decoder: scale-value's `Value`,
	/// walked with its type ids.
	fn reference_json(types: &PortableRegistry, value: &Value<u32>, out: &mut String) {
		let bytes = |value: &Value<u32>| -> Option<Vec<u8>> {
			fn go(types: &PortableRegistry, value: &Value<u32>) -> Option<Vec<u8>> {
				let ValueDef::Composite(c) = &value.value else { return None };
				let ty = types.resolve(value.context)?;
				let element = match &ty.type_def {
					TypeDef::Array(a) => a.type_param.id,
					TypeDef::Sequence(s) => s.type_param.id,
					TypeDef::Composite(_) if c.len() == 1 => return go(types, c.values().next()?),
					_ => return None,
				};
				let is_u8 = matches!(types.resolve(element).map(|t| &t.type_def), Some(TypeDef::Primitive(P::U8)));
				is_u8.then(|| {
					c.values()
						.filter_map(|v| match v.value {
							ValueDef::Primitive(Primitive::U128(n)) => Some(n as u8),
							_ => None,
						})
						.collect()
				})
			}
			go(types, value)
		};
		let ty = types.resolve(value.context).expect("a type");
		if ty.path.segments.last().map(String::as_str) == Some("AccountId32") {
			if let Some(account) = bytes(value).and_then(|b| <[u8; 32]>::try_from(b).ok()) {
				return string_json(&AccountId32::from(account).to_ss58check(), out);
			}
		}
		if let Some(b) = bytes(value) {
			return string_json(&format!("0x{}", b.iter().map(|b| format!("{b:02x}")).collect::<String>()), out);
		}
		let composite = |c: &Composite<u32>, out: &mut String| match c {
			Composite::Named(fields) => {
				out.push('{');
				for (i, (name, v)) in fields.iter().enumerate() {
					if i > 0 {
						out.push(',');
					}
					string_json(name, out);
					out.push(':');
					reference_json(types, v, out);
				}
				out.push('}');
			},
			Composite::Unnamed(values) if values.len() == 1 => reference_json(types, &values[0], out),
			Composite::Unnamed(values) => {
				out.push('[');
				for (i, v) in values.iter().enumerate() {
					if i > 0 {
						out.push(',');
					}
					reference_json(types, v, out);
				}
				out.push(']');
			},
		};
		match &value.value {
			ValueDef::Composite(c) => composite(c, out),
			ValueDef::Variant(v) if v.values.is_empty() => string_json(&v.name, out),
			ValueDef::Variant(v) => {
				out.push('{');
				string_json(&v.name, out);
				out.push(':');
				composite(&v.values, out);
				out.push('}');
			},
			ValueDef::BitSequence(bits) => string_json(&bits.iter().map(|b| if b { '1' } else { '0' }).collect::<String>(), out),
			ValueDef::Primitive(p) => match p {
				Primitive::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
				Primitive::Char(c) => string_json(&c.to_string(), out),
				Primitive::String(s) => string_json(s, out),
				Primitive::U128(n) if *n <= i64::MAX as u128 => out.push_str(&n.to_string()),
				Primitive::I128(n) if i64::try_from(*n).is_ok() => out.push_str(&n.to_string()),
				Primitive::U128(n) => string_json(&n.to_string(), out),
				Primitive::I128(n) => string_json(&n.to_string(), out),
				Primitive::U256(b) | Primitive::I256(b) => {
					string_json(&format!("0x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>()), out)
				},
			},
		}
	}

	#[test]
	fn every_event_of_the_runtime_decodes_to_the_json_generic_decoding_gives() {
		let metadata = loopx_runtime::Runtime::metadata_at_version(15).expect("metadata v15");
		let RuntimeMetadata::V15(metadata) = RuntimeMetadataPrefixed::decode(&mut &metadata[..]).expect("metadata").1 else { panic!("not v15") };
		let types = &metadata.types;
		let runtime_event = metadata.outer_enums.event_enum_ty.id;
		let TypeDef::Variant(pallets) = &types.resolve(runtime_event).expect("RuntimeEvent").type_def else { panic!("not an enum") };
		let mut rng = ChaCha8Rng::seed_from_u64(7);
		let mut checked = 0;
		for pallet in &pallets.variants {
			let TypeDef::Variant(events) = &types.resolve(pallet.fields[0].ty.id).expect("a pallet's events").type_def else { continue };
			for event in &events.variants {
				for _ in 0..8 {
					let mut bytes = vec![pallet.index, event.index];
					event.fields.iter().for_each(|f| random(types, f.ty.id, &mut rng, 2, &mut bytes));
					let reference = scale_value::scale::decode_as_type(&mut &bytes[..], runtime_event, types).expect("scale-value decodes");
					let (mut want, mut got) = (String::new(), String::new());
					reference_json(types, &reference, &mut want);
					let mut input = &bytes[..];
					let node = Node::decode(&mut input, runtime_event, types).expect("decodes");
					assert!(input.is_empty(), "{}.{}: bytes left over", pallet.name, event.name);
					node.json(&|a: &AccountId32| a.to_ss58check(), &mut got);
					assert_eq!(got, want, "{}.{}", pallet.name, event.name);
					checked += 1;
				}
			}
		}
		assert!(checked > 8 * 100, "only {checked} events checked");
		// Cut short, both fail.
		let bytes = [4u8, 2, 1];
		assert!(Node::decode(&mut &bytes[..], runtime_event, types).is_err());
	}

	#[test]
	fn numbers_and_accounts_are_found_through_newtypes() {
		let account = AccountId32::new([7; 32]);
		assert_eq!(Node::Composite(Fields::Unnamed(vec![Node::Unsigned(5)])).number(), Some(5));
		assert_eq!(Node::Composite(Fields::Named(vec![("x", Node::Unsigned(5)), ("y", Node::Unsigned(6))])).number(), None);
		assert_eq!(Node::Account(account.clone()).account(), Some(&account));
		assert_eq!(Node::Bytes(vec![1; 32]).account(), None);
	}
}
