use super::*;

#[test]
fn labels_order_naturally() {
    let mut labels: Vec<Label> = [
        "jump to line 12",
        "10",
        "2",
        "jump to line 9",
        "e1",
        "02",
        "exit",
    ]
    .iter()
    .map(|text| Label((*text).into()))
    .collect();
    labels.sort();
    let texts: Vec<&str> = labels.iter().map(|label| &*label.0).collect();
    assert_eq!(
        texts,
        [
            "02",
            "2",
            "10",
            "e1",
            "exit",
            "jump to line 9",
            "jump to line 12"
        ]
    );
}
