"""Stage 6, delivery: entitlements (a buyer's right to a listing's data, free claims for a purpose,
holder approval, revision access rules, delivery of new versions — `service`) and the signed,
invisible delivery marks in every delivered file that let a regulator trace a leak (`marks`)."""
