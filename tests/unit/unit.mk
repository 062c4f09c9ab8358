# placeholder, replaced by the unit-test harness
unit:
