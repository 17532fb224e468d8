//! The GST state codes: the two digits that start a GSTIN and name a place of supply, with the
//! names a shop owner picks from (the GSTN's state code list; 25 "Daman and Diu" merged into 26
//! in 2020 and 28 is the pre-2014 Andhra Pradesh, both kept because old GSTINs carry them).

use serde::Serialize;

/// A state or union territory as the GST portal lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GstState {
    pub code: u8,
    pub name: &'static str,
}

const fn s(code: u8, name: &'static str) -> GstState {
    GstState { code, name }
}

/// Every code a GSTIN may start with, in code order.
pub const GST_STATES: [GstState; 40] = [
    s(1, "Jammu and Kashmir"),
    s(2, "Himachal Pradesh"),
    s(3, "Punjab"),
    s(4, "Chandigarh"),
    s(5, "Uttarakhand"),
    s(6, "Haryana"),
    s(7, "Delhi"),
    s(8, "Rajasthan"),
    s(9, "Uttar Pradesh"),
    s(10, "Bihar"),
    s(11, "Sikkim"),
    s(12, "Arunachal Pradesh"),
    s(13, "Nagaland"),
    s(14, "Manipur"),
    s(15, "Mizoram"),
    s(16, "Tripura"),
    s(17, "Meghalaya"),
    s(18, "Assam"),
    s(19, "West Bengal"),
    s(20, "Jharkhand"),
    s(21, "Odisha"),
    s(22, "Chhattisgarh"),
    s(23, "Madhya Pradesh"),
    s(24, "Gujarat"),
    s(25, "Daman and Diu (before 2020)"),
    s(26, "Dadra and Nagar Haveli and Daman and Diu"),
    s(27, "Maharashtra"),
    s(28, "Andhra Pradesh (before 2014)"),
    s(29, "Karnataka"),
    s(30, "Goa"),
    s(31, "Lakshadweep"),
    s(32, "Kerala"),
    s(33, "Tamil Nadu"),
    s(34, "Puducherry"),
    s(35, "Andaman and Nicobar Islands"),
    s(36, "Telangana"),
    s(37, "Andhra Pradesh"),
    s(38, "Ladakh"),
    s(97, "Other Territory"),
    s(99, "Centre Jurisdiction"),
];

/// Whether `code` is a GST state code (01-38, 97 other territory, 99 centre).
pub fn is_state_code(code: u8) -> bool {
    state_name(code).is_some()
}

/// The name of a GST state code, if it is one.
pub fn state_name(code: u8) -> Option<&'static str> {
    GST_STATES
        .iter()
        .find(|st| st.code == code)
        .map(|st| st.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_ascending_and_cover_01_to_38() {
        let codes: Vec<u8> = GST_STATES.iter().map(|st| st.code).collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "{codes:?}");
        assert!((1..=38).all(|c| codes.contains(&c)));
        assert_eq!(state_name(27), Some("Maharashtra"));
        assert_eq!(state_name(0), None);
        assert_eq!(state_name(39), None);
    }

    #[test]
    fn the_list_is_exactly_the_codes_01_to_38_97_and_99() {
        for code in 0..=u8::MAX {
            assert_eq!(
                is_state_code(code),
                matches!(code, 1..=38 | 97 | 99),
                "{code}"
            );
        }
    }
}
