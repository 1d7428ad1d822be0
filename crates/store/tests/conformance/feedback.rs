//! Feedback: one per message, replaced in place, gone with its message or
//! its thread, never attached to a message of another thread.

use crate::builders::{append, insert_thread, message, reply, thread};
use crate::fixtures::{self, at, t0};
use spool_core::model::{Feedback, FeedbackType, Message};
use spool_core::{FeedbackId, Store};
use std::sync::Arc;

fn rating(answer: &Message, question: Option<&Message>, kind: FeedbackType) -> Feedback {
    Feedback {
        id: FeedbackId::new(),
        workspace_id: answer.workspace_id,
        thread_id: answer.thread_id,
        message_id: answer.id,
        human_message_id: question.map(|q| q.id),
        run_id: answer.run.run_id,
        user_id: None,
        anon_user_id: Some("visitor-1".into()),
        feedback_type: kind,
        issue_type: None,
        comment: None,
        created_at: at(100),
        updated_at: at(100),
    }
}

pub async fn story_feedback(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Engines", ada.id).await;
    let chat = insert_thread(&store, thread(ws.id, Some(ada.id), t0())).await;
    let question = append(&store, message(&chat, "What time is it?", at(10))).await;
    let answer = append(&store, reply(&chat, "Noon.", at(11), Some("echo"), (3, 1))).await;
    let other = append(&store, reply(&chat, "Still noon.", at(12), None, (1, 1))).await;

    // Stored as given, and read back by message.
    let mut first = rating(&answer, Some(&question), FeedbackType::Positive);
    first.user_id = Some(ada.id);
    first.issue_type = Some("accuracy".into());
    first.comment = Some("Spot on — ✓".into());
    let stored = store.put_feedback(first.clone()).await.unwrap();
    assert_eq!(stored, Some(first.clone()));
    assert_eq!(
        store.feedback_for_messages(&[answer.id]).await.unwrap(),
        [first.clone()]
    );

    // A second rating replaces the first, keeping its id and created_at.
    let mut second = rating(&answer, Some(&question), FeedbackType::Negative);
    second.created_at = at(200);
    second.updated_at = at(200);
    second.comment = Some("Wrong time zone".into());
    let replaced = store.put_feedback(second.clone()).await.unwrap().unwrap();
    assert_eq!(
        replaced,
        Feedback {
            id: first.id,
            created_at: first.created_at,
            ..second
        }
    );
    let other_rating = rating(&other, None, FeedbackType::Positive);
    store.put_feedback(other_rating.clone()).await.unwrap();
    let mut both = store
        .feedback_for_messages(&[answer.id, other.id, question.id])
        .await
        .unwrap();
    both.sort_by_key(|f| f.updated_at);
    assert_eq!(both, [other_rating.clone(), replaced.clone()]);
    assert!(store.feedback_for_messages(&[]).await.unwrap().is_empty());

    // Not on a message of another thread, nor on one that is gone.
    let elsewhere = insert_thread(&store, thread(ws.id, Some(ada.id), t0())).await;
    let mut misplaced = rating(&answer, None, FeedbackType::Positive);
    misplaced.thread_id = elsewhere.id;
    assert_eq!(store.put_feedback(misplaced).await.unwrap(), None);
    assert!(store.delete_message(ws.id, other.id).await.unwrap());
    assert!(
        store
            .feedback_for_messages(&[other.id])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.put_feedback(other_rating).await.unwrap(), None);

    // Deleting the question leaves the rating without it.
    assert!(store.delete_message(ws.id, question.id).await.unwrap());
    let kept = store.feedback_for_messages(&[answer.id]).await.unwrap();
    assert_eq!(kept[0].human_message_id, None);

    // Deleting the thread deletes its feedback.
    assert!(store.delete_thread(ws.id, chat.id).await.unwrap());
    assert!(
        store
            .feedback_for_messages(&[answer.id])
            .await
            .unwrap()
            .is_empty()
    );
}
